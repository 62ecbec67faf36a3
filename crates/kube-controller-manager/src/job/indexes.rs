//! Completion indexes of Indexed Jobs: the `status.completedIndexes` text form
//! (`"1,3-5,7"`) and the index a pod carries.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Pod;

/// The annotation (and label) holding a pod's completion index.
pub const COMPLETION_INDEX_ANNOTATION: &str = "batch.kubernetes.io/job-completion-index";

/// Parses `"1,3-5,7"`; entries that are not numbers or ranges below `completions`
/// are skipped, as upstream does with a corrupted status.
pub fn parse_indexes(text: &str, completions: i32) -> BTreeSet<i32> {
    let mut indexes = BTreeSet::new();
    for part in text
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        let (first, last) = match part.split_once('-') {
            Some((first, last)) => (first.parse::<i32>(), last.parse::<i32>()),
            None => (part.parse::<i32>(), part.parse::<i32>()),
        };
        if let (Ok(first), Ok(last)) = (first, last) {
            for index in first.max(0)..=last.min(completions - 1) {
                indexes.insert(index);
            }
        }
    }
    indexes
}

/// Formats indexes as ascending ranges: `{1,3,4,5,7}` becomes `"1,3-5,7"`.
pub fn format_indexes(indexes: &BTreeSet<i32>) -> String {
    let mut parts = Vec::new();
    let mut iter = indexes.iter().copied().peekable();
    while let Some(first) = iter.next() {
        let mut last = first;
        while iter.peek() == Some(&(last + 1)) {
            last += 1;
            iter.next();
        }
        if first == last {
            parts.push(first.to_string());
        } else {
            parts.push(format!("{first}-{last}"));
        }
    }
    parts.join(",")
}

/// Returns the pod's completion index, if it has a valid one below `completions`.
pub fn pod_index(pod: &Pod, completions: i32) -> Option<i32> {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.get(COMPLETION_INDEX_ANNOTATION))
        .or_else(|| {
            pod.metadata
                .labels
                .as_ref()
                .and_then(|labels| labels.get(COMPLETION_INDEX_ANNOTATION))
        })
        .and_then(|value| value.parse::<i32>().ok())
        .filter(|index| (0..completions).contains(index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_round_trip() {
        let indexes = parse_indexes("1,3-5,7", 10);
        assert_eq!(indexes, BTreeSet::from([1, 3, 4, 5, 7]));
        assert_eq!(format_indexes(&indexes), "1,3-5,7");
        assert_eq!(format_indexes(&BTreeSet::new()), "");
    }

    #[test]
    fn indexes_beyond_completions_are_dropped() {
        assert_eq!(parse_indexes("0-9,x,2", 3), BTreeSet::from([0, 1, 2]));
    }
}
