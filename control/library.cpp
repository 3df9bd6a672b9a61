#include "control/library.hpp"

#include <algorithm>
#include <system_error>

namespace rigd::control {

namespace fs = std::filesystem;

Library::Library(fs::path presets, fs::path models, fs::path irs)
    : presets_(std::move(presets)), models_(std::move(models)), irs_(std::move(irs)) {}

const fs::path& Library::folder(std::string_view folder) const {
    if (folder == "presets") {
        return presets_;
    }
    if (folder == "models") {
        return models_;
    }
    if (folder == "irs") {
        return irs_;
    }
    throw ControlError("unknown folder '" + std::string(folder) + "'");
}

fs::path Library::resolve(std::string_view folder_name, std::string_view name, bool allow_absolute) const {
    const fs::path& base = folder(folder_name);
    if (name.empty()) {
        throw ControlError("empty file name");
    }
    // One text for every name that is not inside the folder, whether or not
    // the file it points at exists: the reply must not tell them apart.
    const auto outside = [&] {
        return ControlError("'" + std::string(name) + "' is not a name inside the " + std::string(folder_name) +
                            " folder");
    };
    if (name.find('\0') != std::string_view::npos) {
        throw outside();
    }
    const fs::path requested(name);
    if (requested.is_absolute()) {
        if (!allow_absolute) {
            throw outside();
        }
        if (!fs::is_regular_file(requested)) {
            throw ControlError("'" + std::string(name) + "': no such file");
        }
        return requested;
    }
    for (const auto& part : requested) {
        if (part == "..") {
            throw outside();
        }
    }
    std::error_code ec;
    const fs::path real_base = fs::weakly_canonical(base, ec);
    if (ec) {
        throw ControlError("the " + std::string(folder_name) + " folder cannot be read: " + ec.message());
    }
    // weakly_canonical leaves a dangling link at the end unresolved: follow
    // it by hand so a broken link out of the folder reads like a working one.
    fs::path candidate = base / requested;
    for (int hops = 0; hops < 40 && fs::is_symlink(fs::symlink_status(candidate, ec)); ++hops) {
        const fs::path target = fs::read_symlink(candidate, ec);
        if (ec) {
            break;
        }
        candidate = target.is_absolute() ? target : candidate.parent_path() / target;
    }
    const fs::path real = fs::weakly_canonical(candidate, ec);
    // A link inside the folder may not lead out of it (nor may a broken one).
    const auto mismatch = std::mismatch(real_base.begin(), real_base.end(), real.begin(), real.end());
    if (ec || mismatch.first != real_base.end()) {
        throw outside();
    }
    if (!fs::is_regular_file(real)) {
        throw ControlError("'" + std::string(name) + "': no such file in the " + std::string(folder_name) + " folder");
    }
    return real;
}

fs::path Library::resolve_preset(std::string_view name) const {
    std::string file(name);
    if (fs::path(file).extension() != ".toml") {
        file += ".toml";
    }
    return resolve("presets", file);
}

std::vector<std::string> Library::list(std::string_view folder_name, std::string_view extension) const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder(folder_name), ec)) {
        if (!entry.is_regular_file(ec) || (!extension.empty() && entry.path().extension() != extension)) {
            continue;
        }
        try {
            (void)resolve(folder_name, entry.path().filename().string()); // hides links leading out
            out.push_back(entry.path().filename().string());
        } catch (const ControlError&) {
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace rigd::control
