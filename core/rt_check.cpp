// Compiles the header-only real-time APIs in a translation unit that clang
// checks with -Wfunction-effects (see core/meson.build): the SPSC queues the
// audio thread drains and fills, and the tuner's input tap writer.
#include "core/spsc_queue.hpp"
#include "core/tuner/input_tap.hpp"

namespace rigd::core {

template class SpscQueue<void*>;
template class SpscQueue<float>;

namespace tuner {
// write() is a member of a non-template class: odr-use it so clang checks it.
[[maybe_unused]] void (InputTap::*const kTapWrite)(std::span<const float>) noexcept RIGD_RT = &InputTap::write;
} // namespace tuner

} // namespace rigd::core
