#pragma once

#include "core/nam/activation.hpp"

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

struct WaveNetLayerArrayConfig {
    int input_size = 1;
    int condition_size = 1;
    int head_size = 1;
    int channels = 1;
    int kernel_size = 1;
    std::vector<int> dilations;
    Activation activation = Activation::tanh;
    float negative_slope = 0.01f; // leaky_relu only
    bool gated = false;
    bool head_bias = false;
};

struct WaveNetConfig {
    std::vector<WaveNetLayerArrayConfig> layer_arrays;
    float head_scale = 1.0f; // the final weight; config.head_scale is only a hint
};

struct LstmConfig {
    int num_layers = 1;
    int input_size = 1;
    int hidden_size = 1;
};

struct NamFile {
    std::string path;    // as given to the loader, for messages
    std::string version; // "0.5.4"
    std::variant<WaveNetConfig, LstmConfig> config;
    std::vector<float> weights; // in file order
    double sample_rate_hz = 48000.0;
    bool sample_rate_given = false;
    NamMetadata metadata;

    [[nodiscard]] bool is_wavenet() const noexcept { return std::holds_alternative<WaveNetConfig>(config); }
    [[nodiscard]] const char* architecture() const noexcept { return is_wavenet() ? "WaveNet" : "LSTM"; }
};

} // namespace rigd::core::nam
