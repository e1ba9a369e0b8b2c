#pragma once
// Deterministic content for the reliability tests: a byte pattern that depends only on (seed,
// absolute offset), so a partial write is a window of the same pattern, and a 64-bit checksum.
// Pattern.cpp is compiled with optimization in every build type (it touches every byte that the
// tests write or read back), everything else in the tests keeps the build's flags.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace SceneryEditorX::Reliability
{

/// Ends a death test's child with `status` at once: no static destructors or driver exit handlers,
/// which crashed the child after a clean Shutdown on NVIDIA's driver (the child's verdict is already
/// in its exit code).
[[noreturn]] inline void EndChild(int status)
{
    std::fflush(nullptr);
    std::_Exit(status);
}

/// splitmix64's finalizer: a cheap, well-mixed 64-bit hash of one word.
constexpr uint64_t Mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/// Writes bytes [offset, offset + size) of the pattern `seed` to `out`.
void FillPattern(uint8_t* out, uint64_t offset, uint64_t size, uint64_t seed);

/// Checksum of `size` bytes (length included).
uint64_t Checksum(const uint8_t* data, uint64_t size);

/// A seeded random source (splitmix64). Same seed, same sequence, on every platform.
class Rng
{
public:
    explicit Rng(uint64_t seed) : m_State(seed) {}
    uint64_t Next() { return Mix64(m_State += 0x9E3779B97F4A7C15ull); }
    /// Uniform in [lo, hi] (inclusive).
    uint64_t Range(uint64_t lo, uint64_t hi) { return hi <= lo ? lo : lo + Next() % (hi - lo + 1); }
    size_t Index(size_t count) { return static_cast<size_t>(Next() % count); }
    bool Chance(double p) { return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p; }
    /// Log-uniform in [lo, hi]: small sizes are as likely as large ones per octave.
    uint64_t LogRange(uint64_t lo, uint64_t hi);

private:
    uint64_t m_State;
};

/// One write of the pattern `seed` over [offset, offset + size).
struct Segment
{
    uint64_t offset = 0;
    uint64_t size = 0;
    uint64_t seed = 0;
};

/// The expected contents of a resource: a first write over the whole size, then later writes
/// on top of it (the last one wins). Empty: the contents are undefined (never written).
struct Contents
{
    std::vector<Segment> writes;
    uint64_t size = 0;     // bytes covered by the first write
    uint64_t checksum = 0; // of the expected bytes, kept up to date by Apply

    bool Defined() const { return !writes.empty(); }
    /// Records a write and updates the checksum. The first write must cover [0, size).
    void Apply(const Segment& write, uint64_t totalSize);
    /// The expected bytes.
    void Generate(std::vector<uint8_t>& out) const;
    /// Describes the first byte where `actual` differs from the expectation ("" if none).
    std::string FirstDifference(const uint8_t* actual, uint64_t size) const;
};

/// An unsigned number from the environment, or `fallback` when unset or not a number.
uint64_t EnvU64(const char* name, uint64_t fallback);

} // namespace SceneryEditorX::Reliability
