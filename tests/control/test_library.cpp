#include "control/library.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;
using rigd::control::ControlError;
using rigd::control::Library;

namespace {

struct Tree {
    fs::path root;
    Tree() {
        std::string tmpl = (fs::temp_directory_path() / "rigd-lib-XXXXXX").string();
        root = mkdtemp(tmpl.data());
        for (const char* d : {"presets", "models", "irs", "outside"}) {
            fs::create_directories(root / d);
        }
        std::ofstream(root / "models" / "amp.nam") << "{}";
        std::ofstream(root / "models" / "b.nam") << "{}";
        std::ofstream(root / "models" / "notes.txt") << "x";
        std::ofstream(root / "presets" / "clean.toml") << "name = \"clean\"\n";
        std::ofstream(root / "outside" / "secret.nam") << "{}";
        fs::create_symlink(root / "outside" / "secret.nam", root / "models" / "escape.nam");
        fs::create_symlink(root / "models" / "amp.nam", root / "models" / "alias.nam");
    }
    ~Tree() { fs::remove_all(root); }
    [[nodiscard]] Library library() const { return Library(root / "presets", root / "models", root / "irs"); }
};

std::string refusal(const Library& lib, const char* folder, const char* name) {
    try {
        (void)lib.resolve(folder, name);
    } catch (const ControlError& e) {
        return e.what();
    }
    return "accepted";
}

} // namespace

TEST_CASE("library: names resolve inside their folder only") {
    Tree t;
    const Library lib = t.library();
    CHECK(lib.resolve("models", "amp.nam") == fs::canonical(t.root / "models" / "amp.nam"));
    CHECK(lib.resolve("models", "alias.nam") == fs::canonical(t.root / "models" / "amp.nam"));
    CHECK(lib.resolve_preset("clean") == fs::canonical(t.root / "presets" / "clean.toml"));
    CHECK(refusal(lib, "models", "../outside/secret.nam") == "'../outside/secret.nam' is not a name inside the models folder");
    CHECK(refusal(lib, "models", (t.root / "outside" / "secret.nam").c_str()) ==
          "'" + (t.root / "outside" / "secret.nam").string() + "' is not a name inside the models folder");
    CHECK(refusal(lib, "models", "escape.nam") == "'escape.nam' is not a name inside the models folder");
    CHECK(refusal(lib, "models", "missing.nam") == "'missing.nam': no such file in the models folder");
    CHECK(refusal(lib, "models", "").find("empty file name") != std::string::npos);
    CHECK(refusal(lib, "fonts", "x").find("unknown folder") != std::string::npos);
    // Allowed for a preset named on the command line:
    CHECK(lib.resolve("models", (t.root / "outside" / "secret.nam").c_str(), true) ==
          t.root / "outside" / "secret.nam");
}

TEST_CASE("library: a name outside the folder gets the same refusal whether or not the file exists") {
    Tree t;
    const Library lib = t.library();
    fs::create_symlink(t.root / "outside" / "missing.nam", t.root / "models" / "broken.nam");
    // Each pair: an existing file outside, a missing one; the refusal differs only by the name echoed back.
    const auto same = [&](const std::string& there, const std::string& missing) {
        INFO(there, " vs ", missing);
        const std::string a = refusal(lib, "models", there.c_str());
        const std::string b = refusal(lib, "models", missing.c_str());
        CHECK(a == "'" + there + "' is not a name inside the models folder");
        CHECK(b == "'" + missing + "' is not a name inside the models folder");
    };
    same((t.root / "outside" / "secret.nam").string(), (t.root / "outside" / "missing.nam").string());
    same("../outside/secret.nam", "../outside/missing.nam");
    same("escape.nam", "broken.nam");
    same("amp.nam/../../outside/secret.nam", "amp.nam/../../outside/missing.nam");
    const std::string nul("a\0b", 3);
    CHECK(refusal(lib, "models", nul.c_str()) != "accepted");
}

TEST_CASE("library: lists a folder sorted, by extension") {
    Tree t;
    const Library lib = t.library();
    CHECK(lib.list("models", ".nam") == std::vector<std::string>{"alias.nam", "amp.nam", "b.nam"});
    CHECK(lib.list("presets", ".toml") == std::vector<std::string>{"clean.toml"});
    CHECK(lib.list("irs", ".wav").empty());
}
