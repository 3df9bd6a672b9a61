#include "daemon/cli.hpp"

#include <charconv>

namespace rigd::daemon {

namespace {

template <typename T>
T parse_number(const std::string& flag, const std::string& text, T min, T max) {
    T value{};
    const auto* end = text.data() + text.size();
    const auto r = std::from_chars(text.data(), end, value);
    if (r.ec != std::errc() || r.ptr != end || value < min || value > max) {
        throw UsageError(flag + ": '" + text + "' is not a number in " + std::to_string(min) + ".." +
                         std::to_string(max));
    }
    return value;
}

} // namespace

std::string usage_text() {
    return "usage:\n"
           "  rigd [--config FILE] [--preset NAME|FILE] [--osc-port N] [--log-level L]\n"
           "  rigd render --preset FILE [--config FILE] [--rate HZ] [--block N] IN.wav OUT.wav\n"
           "  rigd import-preset FILE.json [--out NAME.toml]\n"
           "  rigd --help | --version\n"
           "\n"
           "Runs the guitar rig as a JACK client controlled over OSC. 'render' runs the same\n"
           "engine over a WAV file without JACK and writes 32-bit float WAV (stereo, no\n"
           "dither, no normalisation). 'import-preset' converts a preset of the reference amp\n"
           "simulator (JSON) to an rigd preset, noting on standard error every setting with no\n"
           "equivalent. See README.md for the config keys and OSC addresses.\n";
}

Options parse_command_line(const std::vector<std::string>& args) {
    Options o;
    std::vector<std::string> positional;
    std::size_t i = 0;
    if (!args.empty() && args[0] == "render") {
        o.mode = Options::Mode::render;
        i = 1;
    } else if (!args.empty() && args[0] == "import-preset") {
        o.mode = Options::Mode::import_preset;
        i = 1;
    }
    auto value = [&](const std::string& flag) -> std::string {
        if (i + 1 >= args.size()) {
            throw UsageError(flag + " needs a value");
        }
        return args[++i];
    };
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--help" || a == "-h") {
            o.mode = Options::Mode::help;
            return o;
        }
        if (a == "--version" || a == "-V") {
            o.mode = Options::Mode::version;
            return o;
        }
        if (a == "--config" || a == "-c") {
            o.config = value(a);
        } else if (a == "--preset" || a == "-p") {
            o.preset = value(a);
        } else if (a == "--osc-port") {
            o.osc_port = parse_number<int>(a, value(a), 1, 65535);
        } else if (a == "--log-level") {
            o.log_level = value(a);
        } else if (a == "--rate" && o.mode == Options::Mode::render) {
            o.rate_hz = parse_number<int>(a, value(a), 8000, 768000);
        } else if (a == "--block" && o.mode == Options::Mode::render) {
            o.block = parse_number<std::size_t>(a, value(a), 1, 65536);
        } else if (a == "--out" && o.mode == Options::Mode::import_preset) {
            o.output = value(a);
        } else if (!a.empty() && a[0] == '-') {
            throw UsageError("unknown option '" + a + "'");
        } else {
            positional.push_back(a);
        }
    }
    if (o.mode == Options::Mode::render) {
        if (o.preset.empty()) {
            throw UsageError("render needs --preset FILE");
        }
        if (positional.size() != 2) {
            throw UsageError("render needs IN.wav and OUT.wav");
        }
        o.input = positional[0];
        o.output = positional[1];
    } else if (o.mode == Options::Mode::import_preset) {
        if (positional.size() != 1) {
            throw UsageError("import-preset needs one FILE.json");
        }
        o.input = positional[0];
    } else if (!positional.empty()) {
        throw UsageError("unexpected argument '" + positional[0] + "'");
    }
    return o;
}

} // namespace rigd::daemon
