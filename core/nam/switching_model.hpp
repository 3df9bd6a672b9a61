#pragma once

#include "core/nam/nam_file.hpp"
#include "core/nam/nam_model.hpp"
#include "core/rt.hpp"

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace rigd::core::nam {

// A model made of several complete submodels of which one plays, picked by
// the size control (0..1): a SlimmableContainer, or a slimmable WaveNet (one
// submodel per distinct channel selection, weights sliced at build time).
// Every submodel is built, prepared and prewarmed off the RT thread; on the
// RT thread set_size() only resets the chosen one to its prewarmed state and
// crossfades to it over kFadeMs, so a switch allocates nothing and is audible
// from the next block. A change during a fade waits for it to end (then the
// latest request fades in): never a jump.
class SwitchingModel final : public NamModel {
public:
    static constexpr double kFadeMs = 10.0;

    // architecture SlimmableContainer.
    static std::unique_ptr<SwitchingModel> container(const NamFile& file, const NamBuildOptions& options);
    // A WaveNet with `slimmable` layer arrays.
    static std::unique_ptr<SwitchingModel> slimmable_wavenet(const NamFile& file, const NamBuildOptions& options);

    void prepare(std::size_t max_block) override;
    void prewarm() override;
    void reset() noexcept RIGD_RT override;
    void process_buffer(const float* in, float* out, std::size_t n) noexcept RIGD_RT override;
    void set_size(float size) noexcept RIGD_RT override;
    void select_size(float size) noexcept override;
    [[nodiscard]] bool slimmable() const noexcept override { return true; }
    [[nodiscard]] std::size_t prewarm_samples() const noexcept override;
    [[nodiscard]] std::string_view kernel_name() const noexcept override;

    [[nodiscard]] std::size_t submodel_count() const noexcept { return subs_.size(); }
    [[nodiscard]] std::size_t active_index() const noexcept { return active_; }
    [[nodiscard]] bool fading() const noexcept { return fade_left_ > 0; }
    [[nodiscard]] std::size_t index_for(float size) const noexcept;

private:
    SwitchingModel(double sample_rate_hz, NamMetadata metadata) : NamModel(sample_rate_hz, std::move(metadata)) {}
    void save_reset_state() override;
    void start_fade() noexcept RIGD_RT;

    std::vector<std::unique_ptr<NamModel>> subs_;
    // Container: thresholds (size < max_value picks the submodel).
    std::vector<double> max_values_;
    // Slimmable WaveNet: per array the allowed channel counts (empty: fixed),
    // and per submodel its channel count per array.
    std::vector<std::vector<int>> allowed_;
    std::vector<std::vector<int>> sub_channels_;
    std::vector<int> full_channels_;

    std::size_t active_ = 0;
    std::size_t from_ = 0;
    std::size_t fade_len_ = 1;
    std::size_t fade_left_ = 0;
    std::size_t pending_ = 0; // the latest request; == active_ when none waits
    std::vector<float> fade_buf_;
    std::string name_;
};

// The weights and config of a slimmable WaveNet sliced to `channels` per
// layer array, as the reference's slice_channels_uniform does.
[[nodiscard]] NamFile slim_wavenet_file(const NamFile& full, const std::vector<int>& channels);

} // namespace rigd::core::nam
