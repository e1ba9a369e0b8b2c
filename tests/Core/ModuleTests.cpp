#include <SceneryEditorX/Core/Module.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace SceneryEditorX
{
namespace
{
class RecordingModule : public Module
{
public:
    RecordingModule(std::vector<std::string>& calls, bool& destroyed)
        : Module("Recording"), m_Calls(calls), m_Destroyed(destroyed)
    {
    }
    ~RecordingModule() override { m_Destroyed = true; }

    void OnAttach() override { m_Calls.push_back("attach"); }
    void OnDetach() override { m_Calls.push_back("detach"); }
    void OnUpdate() override { m_Calls.push_back("update"); }

private:
    std::vector<std::string>& m_Calls;
    bool& m_Destroyed;
};

TEST(Module, DefaultNameIsModuleAndHooksDoNothing)
{
    Ref<Module> module = CreateRef<Module>();
    EXPECT_EQ(module->GetName(), "Module");
    module->OnAttach();
    module->OnUpdate();
    module->OnDetach();
}

TEST(Module, GetNameReturnsTheGivenName)
{
    Ref<Module> module = CreateRef<Module>("Allocator");
    EXPECT_EQ(module->GetName(), "Allocator");
}

TEST(Module, HooksAreVirtualAndCalledThroughTheBase)
{
    std::vector<std::string> calls;
    bool destroyed = false;
    {
        Ref<Module> module = CreateRef<RecordingModule>(calls, destroyed);
        EXPECT_EQ(module->GetName(), "Recording");
        module->OnAttach();
        module->OnUpdate();
        module->OnUpdate();
        module->OnDetach();
    }
    EXPECT_EQ(calls, (std::vector<std::string>{"attach", "update", "update", "detach"}));
    EXPECT_TRUE(destroyed) << "the derived destructor runs when the last Ref<Module> goes away";
}
} // namespace
} // namespace SceneryEditorX
