// A small mutex for sections of a few dozen nanoseconds: the registry's shards, the reuse cache's
// shards and the creation stripes. 4 bytes, inlined (one compare-exchange to lock, one exchange to
// unlock, where std::mutex costs two calls into libpthread), and a waiter spins briefly before it
// sleeps.
//
// The registry has many shards so that the allocations one thread keeps reusing (through the
// SpeedOptimized reuse cache) mostly live in shards that no other thread touches, and their cache
// lines stay in that thread's core (docs/PERFORMANCE.md, "Threads"). A defragmentation pass and a
// statistics walk lock every shard at once, more locks than ThreadSanitizer's deadlock detector
// tracks for one thread; this mutex is plain atomics, which ThreadSanitizer checks as such.
//
// The sleeping side is the classic three-state futex mutex (0 free, 1 locked, 2 locked with
// sleepers), on C++20 atomic wait/notify. All synchronization goes through the one atomic, with
// acquire on lock and release on unlock.
#pragma once

#include <atomic>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace SceneryEditorX::detail
{

class SpinMutex
{
public:
    SpinMutex() = default;
    SpinMutex(const SpinMutex&) = delete;
    SpinMutex& operator=(const SpinMutex&) = delete;

    bool try_lock() noexcept
    {
        uint32_t expected = 0;
        return m_State.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                               std::memory_order_relaxed);
    }

    void lock() noexcept
    {
        if (try_lock()) [[likely]]
            return;
        // A holder on another core is out again within a section's length.
        for (int i = 0; i < kSpins; ++i)
        {
            Pause();
            if (m_State.load(std::memory_order_relaxed) == 0 && try_lock())
                return;
        }
        // Still held (a long holder such as a defragmentation pass, or a descheduled one): announce
        // a sleeper and sleep until woken.
        while (m_State.exchange(2, std::memory_order_acquire) != 0)
            m_State.wait(2, std::memory_order_relaxed);
    }

    void unlock() noexcept
    {
        if (m_State.exchange(0, std::memory_order_release) == 2)
            m_State.notify_one();
    }

private:
    static constexpr int kSpins = 128;

    static void Pause() noexcept
    {
#if defined(__x86_64__) || defined(__i386__)
        _mm_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
    }

    std::atomic<uint32_t> m_State{0};
};

} // namespace SceneryEditorX::detail
