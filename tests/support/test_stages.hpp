#pragma once

#include "core/stage.hpp"

#include <array>
#include <cmath>

namespace rigd::test {

// A small stateful nonlinear stage for chain tests: one-pole low-pass then
// tanh drive. Independent of the shipped stages so chain tests stay put
// while those evolve.
class DriveLowpassStage final : public core::Stage {
public:
    DriveLowpassStage() { init_params(); }
    [[nodiscard]] std::string_view type() const noexcept override { return "test_drive"; }
    [[nodiscard]] std::span<const core::ParamInfo> params() const noexcept override { return kParams; }
    void prepare(const core::ProcessSpec&) override { reset(); }
    void reset() noexcept override { z_ = 0.0f; }
    float process_sample(float x) noexcept override {
        z_ += 0.3f * (x - z_);
        return std::tanh(drive_ * z_);
    }

private:
    void on_param_changed(std::size_t, float v) noexcept override { drive_ = v; }
    static constexpr std::array kParams{
        core::ParamInfo{.name = "drive", .unit = "", .min = 0.0f, .max = 20.0f, .default_value = 4.0f}};
    float z_ = 0.0f;
    float drive_ = 4.0f;
};

// Emits NaN once when armed; used to prove the chain resets a bad stage.
class PoisonStage final : public core::Stage {
public:
    PoisonStage() { init_params(); }
    [[nodiscard]] std::string_view type() const noexcept override { return "test_poison"; }
    [[nodiscard]] std::span<const core::ParamInfo> params() const noexcept override { return {}; }
    void prepare(const core::ProcessSpec&) override {}
    void reset() noexcept override { ++resets; }
    float process_sample(float x) noexcept override {
        if (armed) {
            armed = false;
            return std::nanf("");
        }
        return x;
    }
    bool armed = false;
    int resets = 0;

private:
    void on_param_changed(std::size_t, float) noexcept override {}
};

} // namespace rigd::test
