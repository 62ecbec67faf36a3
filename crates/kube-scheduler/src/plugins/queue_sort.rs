//! PrioritySort: the default QueueSort plugin. Higher `spec.priority` pops first, and
//! among equal priorities the pod queued earlier.

use crate::framework::interface::{Plugin, QueueSortPlugin};
use crate::framework::types::pod_priority;
use crate::queue::QueuedPodInfo;

/// The plugin name.
pub const NAME: &str = "PrioritySort";

/// Returns whether `a` pops before `b` under PrioritySort.
pub fn priority_less(a: &QueuedPodInfo, b: &QueuedPodInfo) -> bool {
    let (pa, pb) = (pod_priority(&a.pod), pod_priority(&b.pod));
    pa > pb || (pa == pb && a.timestamp < b.timestamp)
}

/// The PrioritySort plugin.
pub struct PrioritySort;

impl Plugin for PrioritySort {
    fn name(&self) -> &'static str {
        NAME
    }

    fn as_queue_sort(&self) -> Option<&dyn QueueSortPlugin> {
        Some(self)
    }
}

impl QueueSortPlugin for PrioritySort {
    fn less(&self, a: &QueuedPodInfo, b: &QueuedPodInfo) -> bool {
        priority_less(a, b)
    }
}
