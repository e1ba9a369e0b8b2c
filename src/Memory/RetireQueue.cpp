// RetireQueue: resources waiting for their frame to retire (RetireQueue.h).
#include "RetireQueue.h"

#include <iterator>

namespace SceneryEditorX::detail
{

void RetireQueue::Push(RetiredResource resource)
{
    std::lock_guard lock(m_Mutex);
    m_Queue.push_back(std::move(resource));
}

std::vector<RetiredResource> RetireQueue::TakeReady(uint64_t frame)
{
    std::vector<RetiredResource> ready;
    std::lock_guard lock(m_Mutex);
    while (!m_Queue.empty() && m_Queue.front().releaseFrame <= frame)
    {
        ready.push_back(std::move(m_Queue.front()));
        m_Queue.pop_front();
    }
    return ready;
}

std::vector<RetiredResource> RetireQueue::TakeAll()
{
    std::lock_guard lock(m_Mutex);
    std::vector<RetiredResource> all(std::make_move_iterator(m_Queue.begin()),
                                     std::make_move_iterator(m_Queue.end()));
    m_Queue.clear();
    return all;
}

} // namespace SceneryEditorX::detail
