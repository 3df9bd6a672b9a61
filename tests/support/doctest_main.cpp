#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>

// RIGD_TEST_EXCLUDE (doctest's -tce syntax: comma-separated wildcards) skips
// test cases; scripts/check uses it for findings reported and not yet fixed,
// each named there with its issue.
int main(int argc, char** argv) {
    doctest::Context context;
    if (const char* exclude = std::getenv("RIGD_TEST_EXCLUDE"); exclude != nullptr && *exclude != '\0') {
        context.addFilter("test-case-exclude", exclude);
    }
    context.applyCommandLine(argc, argv);
    return context.run();
}
