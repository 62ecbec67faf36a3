//! ImageLocality: prefers nodes that already hold the pod's images, weighted by image
//! size and by how widely the image is spread (to avoid piling pods onto one node).

use k8s_openapi::api::core::v1::Pod;

use crate::cache::Snapshot;
use crate::framework::interface::{
    CycleState, MAX_NODE_SCORE, Plugin, PreScorePlugin, ScorePlugin, Status,
};
use crate::framework::types::{NodeInfo, normalized_image_name};

/// The plugin name.
pub const NAME: &str = "ImageLocality";
const MB: i64 = 1024 * 1024;
/// Image bytes below which a node gets no score.
const MIN_THRESHOLD: i64 = 23 * MB;
/// Image bytes per container above which the score is maximal.
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;
const PRE_SCORE_KEY: &str = "PreScoreImageLocality";

#[derive(Clone)]
struct TotalNodes(usize);

/// The ImageLocality plugin.
pub struct ImageLocality;

impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        NAME
    }

    fn as_pre_score(&self) -> Option<&dyn PreScorePlugin> {
        Some(self)
    }

    fn as_score(&self) -> Option<&dyn ScorePlugin> {
        Some(self)
    }
}

impl PreScorePlugin for ImageLocality {
    fn pre_score(
        &self,
        state: &mut CycleState,
        _pod: &Pod,
        _nodes: &[std::sync::Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) -> Status {
        state.write(PRE_SCORE_KEY, TotalNodes(snapshot.num_nodes()));
        Status::success()
    }
}

impl ScorePlugin for ImageLocality {
    fn score(&self, state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Result<i64, Status> {
        let total_nodes = state
            .read::<TotalNodes>(PRE_SCORE_KEY)
            .map(|total| total.0)
            .unwrap_or(1)
            .max(1);
        let Some(spec) = pod.spec.as_ref() else {
            return Ok(0);
        };
        let containers: Vec<_> = spec
            .init_containers
            .iter()
            .flatten()
            .chain(&spec.containers)
            .collect();
        let mut sum = 0i64;
        for container in &containers {
            let Some(image) = container.image.as_deref() else {
                continue;
            };
            if let Some(state) = node_info.image_states.get(&normalized_image_name(image)) {
                let spread = state.num_nodes as f64 / total_nodes as f64;
                sum += (state.size as f64 * spread) as i64;
            }
        }
        Ok(calculate_priority(sum, containers.len()))
    }
}

fn calculate_priority(sum_scores: i64, num_containers: usize) -> i64 {
    let max_threshold = MAX_CONTAINER_THRESHOLD * num_containers.max(1) as i64;
    let sum = sum_scores.clamp(MIN_THRESHOLD, max_threshold);
    MAX_NODE_SCORE * (sum - MIN_THRESHOLD) / (max_threshold - MIN_THRESHOLD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod};
    use serde_json::json;
    use std::sync::Arc;

    /// Upstream's case: a 40 MB and a 300 MB image on one node, a 2 GB image on the
    /// other, a pod using the 40 MB and 300 MB images.
    #[test]
    fn score_by_image_size_and_spread() {
        let n1 = Arc::new(node(json!({"metadata": {"name": "machine1"}, "status": {"images": [
            {"names": ["gcr.io/40:latest", "gcr.io/40:v1"], "sizeBytes": 40 * MB},
            {"names": ["gcr.io/300:latest"], "sizeBytes": 300 * MB},
        ]}})));
        let n2 = Arc::new(node(json!({"metadata": {"name": "machine2"}, "status": {"images": [
            {"names": ["gcr.io/250:latest"], "sizeBytes": 250 * MB},
            {"names": ["gcr.io/2000:latest"], "sizeBytes": 2000 * MB},
        ]}})));
        let snapshot = Snapshot::new(&[], &[n1, n2]);
        let p = pod(json!({"containers": [
            {"name": "a", "image": "gcr.io/40"}, {"name": "b", "image": "gcr.io/300"}]}));
        let mut state = CycleState::new();
        ImageLocality.pre_score(&mut state, &p, snapshot.list(), &snapshot);
        let scores: Vec<i64> = snapshot
            .list()
            .iter()
            .map(|info| ImageLocality.score(&state, &p, info).expect("score"))
            .collect();
        // machine1: (40 + 300) MB * 1/2 spread = 170 MB; (170 - 23) * 100 / (2000 - 23) = 7.
        assert_eq!(scores, [7, 0]);

        let big = pod(json!({"containers": [{"name": "a", "image": "gcr.io/2000"}]}));
        let scores: Vec<i64> = snapshot
            .list()
            .iter()
            .map(|info| ImageLocality.score(&state, &big, info).expect("score"))
            .collect();
        // machine2: 2000 MB * 1/2 = 1000 MB, the per-container maximum.
        assert_eq!(scores, [0, 100]);
    }
}
