//! Image garbage collection: when the image filesystem's usage passes
//! `imageGCHighThresholdPercent`, unused images are removed, the longest-known
//! first, until usage falls to `imageGCLowThresholdPercent`.
//!
//! [`run`] checks every 5 minutes. An image is unused when no container (in any
//! state) references it, is not pinned by the runtime, and was first seen at least
//! `MIN_AGE` ago.
//! NOTE: images are ordered by when this kubelet first saw them, not by when a
//! container last used them.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use cri::v1 as pb;
use tokio::sync::watch;

use crate::remote::RemoteRuntime;

/// Images younger than this are never removed (upstream's imageMinimumGCAge).
const MIN_AGE: Duration = Duration::from_secs(120);

/// An image that may be removed, with its size and first-seen time.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub id: String,
    pub size: u64,
    pub first_seen: Instant,
}

/// Computes how many bytes to free: none below `high` percent usage, else enough
/// to reach `low` percent.
pub fn bytes_to_free(capacity: f64, available: f64, high: i32, low: i32) -> u64 {
    if capacity <= 0.0 {
        return 0;
    }
    let usage = 100.0 * (capacity - available) / capacity;
    if usage < f64::from(high) {
        return 0;
    }
    let target_used = capacity * f64::from(low) / 100.0;
    ((capacity - available) - target_used).max(0.0) as u64
}

/// Picks the candidates to remove, oldest first, until `needed` bytes are covered.
pub fn select(mut candidates: Vec<Candidate>, needed: u64, now: Instant) -> Vec<Candidate> {
    candidates.retain(|c| now.duration_since(c.first_seen) >= MIN_AGE);
    candidates.sort_by_key(|c| c.first_seen);
    let mut freed = 0;
    let mut chosen = Vec::new();
    for c in candidates {
        if freed >= needed {
            break;
        }
        freed += c.size;
        chosen.push(c);
    }
    chosen
}

async fn collect(
    runtime: &RemoteRuntime,
    high: i32,
    low: i32,
    first_seen: &mut HashMap<String, Instant>,
) -> Result<(), tonic::Status> {
    let mut image = runtime.image.clone();
    let mut rt = runtime.runtime.clone();
    let now = Instant::now();
    let images = image
        .list_images(pb::ListImagesRequest { filter: None })
        .await?
        .into_inner()
        .images;
    for i in &images {
        first_seen.entry(i.id.clone()).or_insert(now);
    }
    first_seen.retain(|id, _| images.iter().any(|i| &i.id == id));

    let fs = image
        .image_fs_info(pb::ImageFsInfoRequest {})
        .await?
        .into_inner();
    let Some(mountpoint) = fs
        .image_filesystems
        .first()
        .and_then(|f| f.fs_id.as_ref())
        .map(|id| id.mountpoint.clone())
    else {
        return Ok(());
    };
    let Some(stats) = crate::node::statvfs(Path::new(&mountpoint)) else {
        return Ok(());
    };
    let needed = bytes_to_free(stats.capacity_bytes, stats.available_bytes, high, low);
    if needed == 0 {
        return Ok(());
    }

    let containers = rt
        .list_containers(pb::ListContainersRequest { filter: None })
        .await?
        .into_inner()
        .containers;
    let mut in_use: HashSet<String> = HashSet::new();
    for c in containers {
        in_use.insert(c.image_ref.clone());
        in_use.insert(c.image_id.clone());
        if let Some(spec) = c.image {
            in_use.insert(spec.image);
        }
    }
    let candidates: Vec<Candidate> = images
        .iter()
        .filter(|i| {
            !i.pinned
                && !in_use.contains(&i.id)
                && !i
                    .repo_tags
                    .iter()
                    .chain(&i.repo_digests)
                    .any(|n| in_use.contains(n))
        })
        .map(|i| Candidate {
            id: i.id.clone(),
            size: i.size,
            first_seen: first_seen.get(&i.id).copied().unwrap_or(now),
        })
        .collect();
    tracing::info!(
        needed_bytes = needed,
        candidates = candidates.len(),
        "image filesystem above the high threshold, removing unused images"
    );
    for c in select(candidates, needed, now) {
        match image
            .remove_image(pb::RemoveImageRequest {
                image: Some(pb::ImageSpec {
                    image: c.id.clone(),
                    ..Default::default()
                }),
            })
            .await
        {
            Ok(_) => tracing::info!(image = %c.id, size_bytes = c.size, "removed unused image"),
            Err(status) => tracing::warn!(image = %c.id, %status, "failed to remove image"),
        }
    }
    Ok(())
}

/// Runs image GC every 5 minutes until cancelled.
pub async fn run(runtime: RemoteRuntime, high: i32, low: i32, mut cancel: watch::Receiver<bool>) {
    let mut first_seen = HashMap::new();
    loop {
        if let Err(status) = collect(&runtime, high, low, &mut first_seen).await {
            tracing::warn!(%status, "image garbage collection failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(300)) => {}
            _ = crate::cancelled(&mut cancel) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frees_down_to_the_low_threshold() {
        assert_eq!(bytes_to_free(1000.0, 500.0, 85, 80), 0);
        // 90% used: free down to 80% used.
        assert_eq!(bytes_to_free(1000.0, 100.0, 85, 80), 100);
        assert_eq!(bytes_to_free(0.0, 0.0, 85, 80), 0);
    }

    #[test]
    fn selects_oldest_old_enough_images() {
        let now = Instant::now() + Duration::from_secs(1000);
        let at = |secs_ago: u64| now - Duration::from_secs(secs_ago);
        let candidates = vec![
            Candidate {
                id: "young".into(),
                size: 500,
                first_seen: at(10),
            },
            Candidate {
                id: "new".into(),
                size: 60,
                first_seen: at(200),
            },
            Candidate {
                id: "old".into(),
                size: 50,
                first_seen: at(900),
            },
        ];
        let chosen: Vec<String> = select(candidates.clone(), 80, now)
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(chosen, vec!["old", "new"]);
        let chosen: Vec<String> = select(candidates, 10, now)
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(chosen, vec!["old"]);
    }
}
