#pragma once
/// @file Ref.h
/// Intrusive, atomically counted shared ownership: `RefCounted`, `Ref<T>` and `CreateRef<T>(...)`.
///
/// Thread safety: the count is atomic, so copies of one `Ref` may be made and dropped on several
/// threads at once. A single `Ref` object is not itself synchronized (like `std::shared_ptr`).

#include <atomic>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace SceneryEditorX
{

/// Base class of every object owned through `Ref<T>`. The object deletes itself when the last
/// reference goes away.
class RefCounted
{
public:
    RefCounted() = default;
    RefCounted(const RefCounted&) : m_RefCount(0) {}
    RefCounted& operator=(const RefCounted&) { return *this; }
    virtual ~RefCounted() = default;

    void IncRefCount() const noexcept { m_RefCount.fetch_add(1, std::memory_order_relaxed); }
    /// Returns true when this call dropped the last reference.
    bool DecRefCount() const noexcept { return m_RefCount.fetch_sub(1, std::memory_order_acq_rel) == 1; }
    uint32_t GetRefCount() const noexcept { return m_RefCount.load(std::memory_order_acquire); }

private:
    mutable std::atomic<uint32_t> m_RefCount{0};
};

template <class T>
class Ref
{
public:
    Ref() noexcept = default;
    Ref(std::nullptr_t) noexcept {}
    /// Takes a reference to an object that derives from RefCounted (also one already owned elsewhere).
    explicit Ref(T* instance) noexcept : m_Instance(instance)
    {
        static_assert(std::is_base_of_v<RefCounted, T>, "T must derive from RefCounted");
        IncRef();
    }
    Ref(const Ref& other) noexcept : m_Instance(other.m_Instance) { IncRef(); }
    Ref(Ref&& other) noexcept : m_Instance(std::exchange(other.m_Instance, nullptr)) {}
    template <class U, class = std::enable_if_t<std::is_convertible_v<U*, T*>>>
    Ref(const Ref<U>& other) noexcept : m_Instance(other.Raw())
    {
        IncRef();
    }
    template <class U, class = std::enable_if_t<std::is_convertible_v<U*, T*>>>
    Ref(Ref<U>&& other) noexcept : m_Instance(other.Detach())
    {
    }
    ~Ref() { DecRef(); }

    Ref& operator=(std::nullptr_t) noexcept
    {
        Reset();
        return *this;
    }
    Ref& operator=(const Ref& other) noexcept
    {
        Ref(other).Swap(*this);
        return *this;
    }
    Ref& operator=(Ref&& other) noexcept
    {
        Ref(std::move(other)).Swap(*this);
        return *this;
    }
    template <class U, class = std::enable_if_t<std::is_convertible_v<U*, T*>>>
    Ref& operator=(const Ref<U>& other) noexcept
    {
        Ref(other).Swap(*this);
        return *this;
    }
    template <class U, class = std::enable_if_t<std::is_convertible_v<U*, T*>>>
    Ref& operator=(Ref<U>&& other) noexcept
    {
        Ref(std::move(other)).Swap(*this);
        return *this;
    }

    /// Drops this reference; the object is deleted if it was the last one.
    void Reset() noexcept
    {
        DecRef();
        m_Instance = nullptr;
    }
    void Swap(Ref& other) noexcept { std::swap(m_Instance, other.m_Instance); }

    T* operator->() const noexcept { return m_Instance; }
    T& operator*() const noexcept { return *m_Instance; }
    T* Raw() const noexcept { return m_Instance; }
    explicit operator bool() const noexcept { return m_Instance != nullptr; }

    /// Static downcast; the caller knows the dynamic type.
    template <class U>
    Ref<U> As() const noexcept
    {
        return Ref<U>(static_cast<U*>(m_Instance));
    }

    /// Releases ownership without decrementing (used by converting moves).
    T* Detach() noexcept { return std::exchange(m_Instance, nullptr); }

    friend bool operator==(const Ref& a, std::nullptr_t) noexcept { return a.m_Instance == nullptr; }
    template <class U>
    friend bool operator==(const Ref& a, const Ref<U>& b) noexcept
    {
        return a.Raw() == b.Raw();
    }

private:
    void IncRef() const noexcept
    {
        if (m_Instance)
            m_Instance->IncRefCount();
    }
    void DecRef() noexcept
    {
        if (m_Instance && m_Instance->DecRefCount())
            delete m_Instance;
    }

    T* m_Instance = nullptr;
};

/// Creates a `T` on the heap and returns the first reference to it.
template <class T, class... Args>
Ref<T> CreateRef(Args&&... args)
{
    return Ref<T>(new T(std::forward<Args>(args)...));
}

} // namespace SceneryEditorX
