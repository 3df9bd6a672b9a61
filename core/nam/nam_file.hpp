#pragma once

#include "core/nam/activation.hpp"

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace rigd::core::nam {

// What a parsed and validated .nam file holds. Plain data: the loader fills
// it, the model builders read it, the stage keeps the metadata.

struct NamMetadata {
    std::optional<double> loudness_db;      // output loudness for the trainer's input
    std::optional<double> input_level_dbu;  // dBu RMS of a 0 dBFS-peak sine at the input
    std::optional<double> output_level_dbu; // same at the output
    std::string name;
    std::string modeled_by;
    std::string gear_type;
    std::string gear_make;
    std::string gear_model;
    std::string tone_type;
};

struct NamFile;

enum class GatingMode { none, gated, blended };

// A FiLM: a biased 1x1 from the condition to a per-frame scale (and shift).
struct FilmConfig {
    bool active = false;
    bool shift = true;
    int groups = 1;
};

// The eight FiLM insertion points, in weight order.
enum FilmSlot : std::size_t {
    kConvPreFilm,
    kConvPostFilm,
    kInputMixinPreFilm,
    kInputMixinPostFilm,
    kActivationPreFilm,
    kActivationPostFilm,
    kLayer1x1PostFilm,
    kHead1x1PostFilm,
    kFilmSlots
};

struct WaveNetLayerArrayConfig {
    int input_size = 1;
    int condition_size = 1;
    int head_size = 1;
    int channels = 1;
    // A1 fields (valid when the array is plain A1: see WaveNetConfig::a1).
    int kernel_size = 1;
    std::vector<int> dilations;
    Activation activation = Activation::tanh;
    float negative_slope = 0.01f; // leaky_relu only
    bool gated = false;
    bool head_bias = false;

    // Format 0.6/0.7; defaults give the A1 computation. Per-layer vectors
    // have one entry per dilation.
    int bottleneck = 1;
    std::vector<int> kernel_sizes;
    std::vector<ActivationSpec> activations;
    std::vector<GatingMode> gating;
    std::vector<ActivationSpec> secondary; // for gated/blended layers
    int groups_input = 1;
    int groups_input_mixin = 1;
    bool layer1x1_active = true;
    int layer1x1_groups = 1;
    bool head1x1_active = false;
    int head1x1_out_channels = 1;
    int head1x1_groups = 1;
    std::array<FilmConfig, kFilmSlots> films{};
    int head_kernel_size = 1;
    int head_dilation = 1;
    std::vector<int> slimmable_channels; // allowed_channels; empty: not slimmable

    // Rows of the skip sum (head1x1 output or the bottleneck).
    [[nodiscard]] int head_input_size() const noexcept { return head1x1_active ? head1x1_out_channels : bottleneck; }
};

// The 0.7 post-stack head: convs with an activation before each.
struct WaveNetPostHead {
    int in_channels = 1;
    int channels = 1;
    int out_channels = 1;
    std::vector<int> kernel_sizes;
    ActivationSpec activation;
};

struct WaveNetConfig {
    std::vector<WaveNetLayerArrayConfig> layer_arrays;
    float head_scale = 1.0f; // the final weight; config.head_scale is only a hint
    std::optional<WaveNetPostHead> post_head;
    std::shared_ptr<const NamFile> condition_dsp; // nested model whose output conditions the layers
    // Nothing beyond the A1 feature set: runs on the A1 kernels.
    bool a1 = true;
    [[nodiscard]] bool slimmable() const noexcept {
        for (const auto& a : layer_arrays) {
            if (!a.slimmable_channels.empty()) {
                return true;
            }
        }
        return false;
    }
};

struct LstmConfig {
    int num_layers = 1;
    int input_size = 1;
    int hidden_size = 1;
};

// SlimmableContainer: size v picks the first submodel with v < max_value,
// else the last.
struct ContainerConfig {
    struct Submodel {
        double max_value = 1.0;
        std::shared_ptr<const NamFile> model;
    };
    std::vector<Submodel> submodels;
};

struct NamFile {
    std::string path;    // as given to the loader, for messages
    std::string version; // "0.5.4"
    std::variant<WaveNetConfig, LstmConfig, ContainerConfig> config;
    std::vector<float> weights; // in file order
    double sample_rate_hz = 48000.0;
    bool sample_rate_given = false;
    NamMetadata metadata;

    [[nodiscard]] bool is_wavenet() const noexcept { return std::holds_alternative<WaveNetConfig>(config); }
    [[nodiscard]] const char* architecture() const noexcept {
        return is_wavenet() ? "WaveNet"
                            : (std::holds_alternative<LstmConfig>(config) ? "LSTM" : "SlimmableContainer");
    }
};

} // namespace rigd::core::nam
