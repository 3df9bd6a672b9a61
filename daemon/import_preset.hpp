#pragma once

#include "core/preset.hpp"
#include "core/stage_factory.hpp"

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rigd::daemon {

// A preset file of the reference amp simulator that cannot be read: bad
// JSON, a missing required field, a wrong type or an unknown stage kind.
class ImportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ImportedPreset {
    core::Preset preset;
    std::vector<std::string> notes;   // one per setting with no exact equivalent
    std::vector<std::string> comments; // description and author, for the file's header
};

// Maps the reference's preset JSON (see README "Importing presets") to an
// rigd preset: input filters, the chain in the reference's order, its pitch
// shift and its IR with ir_gain. Values outside our ranges are clamped with
// a note. Throws ImportError naming `origin` and the field.
[[nodiscard]] ImportedPreset import_reference_preset(std::string_view json_text, std::string_view origin);

// `rigd import-preset FILE.json [--out NAME.toml]`: writes the TOML to
// `out` (standard output when empty), notes to standard error. Returns the
// exit status.
[[nodiscard]] int run_import_preset(const std::string& input, const std::string& out,
                                    const core::StageFactory& factory);

} // namespace rigd::daemon
