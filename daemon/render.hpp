#pragma once

#include "control/config.hpp"
#include "daemon/cli.hpp"

namespace rigd::daemon {

// `rigd render`: the live engine over a WAV file, no JACK. Returns the exit
// code; errors are logged with the file and the reason.
int render(const Options& options, const control::Config& config);

} // namespace rigd::daemon
