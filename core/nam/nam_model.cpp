#include "core/nam/nam_model.hpp"

#include "core/nam/lstm_model.hpp"
#include "core/nam/nam_loader.hpp"
#include "core/nam/general_wavenet_model.hpp"
#include "core/nam/switching_model.hpp"
#include "core/nam/wavenet_model.hpp"

#include <algorithm>
#include <vector>

namespace rigd::core::nam {

void NamModel::prewarm() {
    const std::size_t block = std::max<std::size_t>(1, max_block_);
    std::vector<float> zeros(block, 0.0f);
    std::vector<float> out(block, 0.0f);
    reset();
    for (std::size_t left = prewarm_samples(); left > 0;) {
        const std::size_t n = std::min(left, block);
        process_buffer(zeros.data(), out.data(), n);
        left -= n;
    }
    save_reset_state();
}

std::unique_ptr<NamModel> build_nam_model(const NamFile& file, const NamBuildOptions& options) {
    if (const auto* wn = std::get_if<WaveNetConfig>(&file.config)) {
        if (wn->slimmable()) {
            return SwitchingModel::slimmable_wavenet(file, options);
        }
        if (wn->a1 && !options.general_wavenet) {
            return std::make_unique<WaveNetModel>(*wn, file.weights, file.sample_rate_hz, file.metadata, options);
        }
        return std::make_unique<GeneralWaveNetModel>(*wn, file.weights, file.sample_rate_hz, file.metadata,
                                                     options);
    }
    if (std::holds_alternative<ContainerConfig>(file.config)) {
        return SwitchingModel::container(file, options);
    }
    return std::make_unique<LstmModel>(std::get<LstmConfig>(file.config), file.weights, file.sample_rate_hz,
                                       file.metadata, options);
}

std::unique_ptr<NamModel> load_nam_model(const std::filesystem::path& path, std::size_t max_block,
                                         const NamBuildOptions& options) {
    auto model = build_nam_model(load_nam_file(path), options);
    model->prepare(max_block);
    model->prewarm();
    return model;
}

} // namespace rigd::core::nam
