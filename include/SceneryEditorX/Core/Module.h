#pragma once
/// @file Module.h
/// `Module`: a named part of the application with attach/detach/update hooks. Owned through Ref<T>.
/// A module's hooks are called by its owner, on the owner's thread.

#include <SceneryEditorX/Core/Ref.h>

#include <string>

namespace SceneryEditorX
{
class Module : public RefCounted
{
public:
    explicit Module(std::string name = "Module") : m_Name(std::move(name)) {}
    ~Module() override = default;

    virtual void OnAttach() {}
    virtual void OnDetach() {}
    virtual void OnUpdate() {}

    const std::string& GetName() const { return m_Name; }

protected:
    std::string m_Name;
};
} // namespace SceneryEditorX
