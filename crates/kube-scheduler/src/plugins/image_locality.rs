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

/// The state PreScore computes once per cycle: the number of nodes and the pod's
/// normalized image names (one per container, init containers included).
#[derive(Clone)]
struct PreScoreState {
    total_nodes: usize,
    images: Vec<Option<String>>,
}

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
        pod: &Pod,
        _nodes: &[std::sync::Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) -> Status {
        state.write(
            PRE_SCORE_KEY,
            PreScoreState {
                total_nodes: snapshot.num_nodes(),
                images: pod_images(pod),
            },
        );
        Status::success()
    }
}

impl ScorePlugin for ImageLocality {
    fn score(&self, state: &CycleState, pod: &Pod, node_info: &NodeInfo) -> Result<i64, Status> {
        // Without PreScore's state the node is scored as if it were the only one.
        let computed;
        let (total_nodes, images) = match state.read::<PreScoreState>(PRE_SCORE_KEY) {
            Some(pre) => (pre.total_nodes.max(1), &pre.images),
            None => {
                computed = pod_images(pod);
                (1, &computed)
            }
        };
        let mut sum = 0i64;
        for image in images.iter().flatten() {
            if let Some(state) = node_info.image_states.get(image) {
                let spread = state.num_nodes as f64 / total_nodes as f64;
                sum += (state.size as f64 * spread) as i64;
            }
        }
        Ok(calculate_priority(sum, images.len()))
    }
}

/// Returns the normalized image name of each container, init containers first.
fn pod_images(pod: &Pod) -> Vec<Option<String>> {
    pod.spec
        .iter()
        .flat_map(|spec| {
            spec.init_containers
                .iter()
                .flatten()
                .chain(&spec.containers)
        })
        .map(|container| container.image.as_deref().map(normalized_image_name))
        .collect()
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
        let n1 = Arc::new(node(
            json!({"metadata": {"name": "machine1"}, "status": {"images": [
                {"names": ["gcr.io/40:latest", "gcr.io/40:v1"], "sizeBytes": 40 * MB},
                {"names": ["gcr.io/300:latest"], "sizeBytes": 300 * MB},
            ]}}),
        ));
        let n2 = Arc::new(node(
            json!({"metadata": {"name": "machine2"}, "status": {"images": [
                {"names": ["gcr.io/250:latest"], "sizeBytes": 250 * MB},
                {"names": ["gcr.io/2000:latest"], "sizeBytes": 2000 * MB},
            ]}}),
        ));
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
        let mut state = CycleState::new();
        ImageLocality.pre_score(&mut state, &big, snapshot.list(), &snapshot);
        let scores: Vec<i64> = snapshot
            .list()
            .iter()
            .map(|info| ImageLocality.score(&state, &big, info).expect("score"))
            .collect();
        // machine2: 2000 MB * 1/2 = 1000 MB, the per-container maximum.
        assert_eq!(scores, [0, 100]);
    }
}
