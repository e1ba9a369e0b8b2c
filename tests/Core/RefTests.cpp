#include <SceneryEditorX/Core/Ref.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <utility>
#include <vector>

namespace SceneryEditorX
{
namespace
{
/// Counts its destructions in a counter owned by the test.
class Tracked : public RefCounted
{
public:
    explicit Tracked(std::atomic<int>& destroyed, int value = 0) : m_Destroyed(destroyed), m_Value(value) {}
    ~Tracked() override { m_Destroyed.fetch_add(1); }
    int GetValue() const { return m_Value; }

private:
    std::atomic<int>& m_Destroyed;
    int m_Value;
};

class Base : public RefCounted
{
public:
    explicit Base(std::atomic<int>& destroyed) : m_Destroyed(destroyed) {}
    ~Base() override { m_Destroyed.fetch_add(1); }
    virtual int Kind() const { return 1; }

private:
    std::atomic<int>& m_Destroyed;
};

class Derived : public Base
{
public:
    using Base::Base;
    int Kind() const override { return 2; }
};

TEST(Ref, CreateRefStartsWithOneReference)
{
    std::atomic<int> destroyed{0};
    Ref<Tracked> ref = CreateRef<Tracked>(destroyed, 7);
    ASSERT_TRUE(ref);
    EXPECT_EQ(ref->GetRefCount(), 1u);
    EXPECT_EQ(ref->GetValue(), 7);
    EXPECT_EQ((*ref).GetValue(), 7);
}

TEST(Ref, CopiesAddReferencesAndDropsRemoveThem)
{
    std::atomic<int> destroyed{0};
    Ref<Tracked> a = CreateRef<Tracked>(destroyed);
    {
        Ref<Tracked> b = a;
        EXPECT_EQ(a->GetRefCount(), 2u);
        Ref<Tracked> c;
        c = b;
        EXPECT_EQ(a->GetRefCount(), 3u);
        EXPECT_TRUE(a == b);
        EXPECT_TRUE(b == c);
    }
    EXPECT_EQ(a->GetRefCount(), 1u);
    EXPECT_EQ(destroyed.load(), 0);
}

TEST(Ref, MovesTransferTheReferenceWithoutCounting)
{
    std::atomic<int> destroyed{0};
    Ref<Tracked> a = CreateRef<Tracked>(destroyed);
    Tracked* raw = a.Raw();
    Ref<Tracked> b = std::move(a);
    EXPECT_TRUE(a == nullptr); // NOLINT(bugprone-use-after-move): moved-from state is specified
    EXPECT_EQ(b.Raw(), raw);
    EXPECT_EQ(b->GetRefCount(), 1u);
    Ref<Tracked> c;
    c = std::move(b);
    EXPECT_TRUE(b == nullptr); // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(c->GetRefCount(), 1u);
    EXPECT_EQ(destroyed.load(), 0);
}

TEST(Ref, ResetDropsTheReferenceAndDestroysTheLastOne)
{
    std::atomic<int> destroyed{0};
    Ref<Tracked> a = CreateRef<Tracked>(destroyed);
    Ref<Tracked> b = a;
    a.Reset();
    EXPECT_TRUE(a == nullptr);
    EXPECT_FALSE(a);
    EXPECT_EQ(b->GetRefCount(), 1u);
    EXPECT_EQ(destroyed.load(), 0);
    b.Reset();
    EXPECT_EQ(destroyed.load(), 1);
    b.Reset(); // resetting an empty reference is harmless
    EXPECT_EQ(destroyed.load(), 1);
}

TEST(Ref, AssigningNullptrDropsTheReference)
{
    std::atomic<int> destroyed{0};
    Ref<Tracked> a = CreateRef<Tracked>(destroyed);
    a = nullptr;
    EXPECT_TRUE(a == nullptr);
    EXPECT_EQ(destroyed.load(), 1);
}

TEST(Ref, ComparesWithNullptrBothWays)
{
    std::atomic<int> destroyed{0};
    Ref<Tracked> empty;
    Ref<Tracked> fromNull = nullptr;
    Ref<Tracked> full = CreateRef<Tracked>(destroyed);
    EXPECT_TRUE(empty == nullptr);
    EXPECT_TRUE(nullptr == empty);
    EXPECT_FALSE(empty != nullptr);
    EXPECT_TRUE(fromNull == nullptr);
    EXPECT_TRUE(full != nullptr);
    EXPECT_TRUE(nullptr != full);
    EXPECT_FALSE(full == nullptr);
    EXPECT_TRUE(empty == fromNull);
    EXPECT_TRUE(empty != full);
}

TEST(Ref, SelfAssignmentKeepsTheObject)
{
    std::atomic<int> destroyed{0};
    Ref<Tracked> a = CreateRef<Tracked>(destroyed);
    Ref<Tracked>& alias = a;
    a = alias;
    EXPECT_EQ(a->GetRefCount(), 1u);
    a = std::move(alias);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->GetRefCount(), 1u);
    EXPECT_EQ(destroyed.load(), 0);
}

TEST(Ref, DerivedConvertsToBaseByCopy)
{
    std::atomic<int> destroyed{0};
    Ref<Derived> derived = CreateRef<Derived>(destroyed);
    Ref<Base> base = derived;
    EXPECT_EQ(base->GetRefCount(), 2u);
    EXPECT_EQ(base->Kind(), 2);
    EXPECT_TRUE(base == derived);
    EXPECT_TRUE(derived == base);
    Ref<Base> assigned;
    assigned = derived;
    EXPECT_EQ(derived->GetRefCount(), 3u);
    EXPECT_TRUE(assigned == derived);
}

TEST(Ref, DerivedConvertsToBaseByMove)
{
    std::atomic<int> destroyed{0};
    Ref<Derived> derived = CreateRef<Derived>(destroyed);
    Derived* raw = derived.Raw();
    Ref<Base> base = std::move(derived);
    EXPECT_TRUE(derived == nullptr); // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(base.Raw(), raw);
    EXPECT_EQ(base->GetRefCount(), 1u);

    Ref<Derived> second = CreateRef<Derived>(destroyed);
    Derived* secondRaw = second.Raw();
    base = std::move(second); // drops the first object, takes the second without a count change
    EXPECT_EQ(destroyed.load(), 1);
    EXPECT_TRUE(second == nullptr) << "a converting move assignment must leave the source empty"; // NOLINT
    EXPECT_EQ(base.Raw(), secondRaw);
    EXPECT_EQ(base->GetRefCount(), 1u);
}

TEST(Ref, AsDowncastsAndShares)
{
    std::atomic<int> destroyed{0};
    Ref<Base> base = CreateRef<Derived>(destroyed);
    Ref<Derived> derived = base.As<Derived>();
    EXPECT_EQ(derived->Kind(), 2);
    EXPECT_EQ(base->GetRefCount(), 2u);
}

TEST(Ref, ObjectIsDestroyedExactlyOnceThroughTheBase)
{
    std::atomic<int> destroyed{0};
    {
        Ref<Derived> derived = CreateRef<Derived>(destroyed);
        Ref<Base> a = derived;
        Ref<Base> b = std::move(derived);
        Ref<Base> c = a;
        a.Reset();
        b = nullptr;
        EXPECT_EQ(destroyed.load(), 0);
    }
    EXPECT_EQ(destroyed.load(), 1);
}

TEST(Ref, RawPointerConstructorSharesAnOwnedObject)
{
    std::atomic<int> destroyed{0};
    Ref<Tracked> a = CreateRef<Tracked>(destroyed);
    {
        Ref<Tracked> b(a.Raw()); // re-adopting an object that is already owned adds a reference
        EXPECT_EQ(a->GetRefCount(), 2u);
    }
    EXPECT_EQ(a->GetRefCount(), 1u);
    EXPECT_EQ(destroyed.load(), 0);
}

TEST(RefThreads, CopiesAndDropsOnEightThreadsKeepTheCountExact)
{
    constexpr int kThreads = 8;
    constexpr int kIterations = 20000;
    std::atomic<int> destroyed{0};
    Ref<Tracked> shared = CreateRef<Tracked>(destroyed);
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back(
            [&]
            {
                while (!go.load())
                    std::this_thread::yield();
                std::vector<Ref<Tracked>> held;
                held.reserve(4);
                for (int i = 0; i < kIterations; ++i)
                {
                    held.push_back(shared);
                    if (held.size() == 4)
                        held.clear();
                }
            });
    go = true;
    for (std::thread& thread : threads)
        thread.join();
    EXPECT_EQ(shared->GetRefCount(), 1u);
    EXPECT_EQ(destroyed.load(), 0);
    shared.Reset();
    EXPECT_EQ(destroyed.load(), 1);
}

TEST(RefThreads, RefCountDropsToZeroAcrossThreads)
{
    constexpr int kThreads = 8;
    constexpr int kRounds = 100;
    for (int round = 0; round < kRounds; ++round)
    {
        std::atomic<int> destroyed{0};
        std::atomic<int> ready{0};
        std::vector<std::thread> threads;
        {
            Ref<Tracked> original = CreateRef<Tracked>(destroyed);
            for (int t = 0; t < kThreads; ++t)
                threads.emplace_back(
                    [&ready, copy = original]() mutable
                    {
                        ready.fetch_add(1);
                        while (ready.load() < kThreads)
                            std::this_thread::yield();
                        Ref<Tracked> another = copy;
                        copy.Reset();
                        another.Reset(); // one of the threads deletes the object
                    });
        } // the creator's reference goes away while the threads run
        for (std::thread& thread : threads)
            thread.join();
        ASSERT_EQ(destroyed.load(), 1) << "round " << round;
    }
}
} // namespace
} // namespace SceneryEditorX
