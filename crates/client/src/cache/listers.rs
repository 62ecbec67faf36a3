//! Lister helpers over an [`Indexer`]: all objects, or one namespace's, that pass a
//! selector.
//!
//! Generated listers in client-go call these; here the selector is a closure, so a
//! label selector from apimachinery or any other predicate fits.

use super::index::NAMESPACE_INDEX;
use super::key::Object;
use super::store::Indexer;

/// Returns every object in `indexer` for which `selector` returns true.
pub fn list_all<T: Object>(indexer: &Indexer<T>, selector: impl Fn(&T) -> bool) -> Vec<T> {
    indexer
        .list()
        .into_iter()
        .filter(|obj| selector(obj))
        .collect()
}

/// Returns the objects of `namespace` for which `selector` returns true; an empty
/// namespace means all namespaces. Uses the namespace index when the indexer has one
/// and scans every object otherwise.
pub fn list_by_namespace<T: Object>(
    indexer: &Indexer<T>,
    namespace: &str,
    selector: impl Fn(&T) -> bool,
) -> Vec<T> {
    if namespace.is_empty() {
        return list_all(indexer, selector);
    }

    match indexer.by_index(NAMESPACE_INDEX, namespace) {
        Ok(objects) => objects.into_iter().filter(|obj| selector(obj)).collect(),
        Err(err) => {
            tracing::warn!(namespace, error = %err, "cannot list objects through the namespace index; scanning every object");
            list_all(indexer, |obj| {
                obj.namespace().unwrap_or("") == namespace && selector(obj)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::key::meta_namespace_key_func;
    use super::super::store::Store;
    use super::*;

    fn pod(namespace: &str, name: &str, app: &str) -> Value {
        json!({"metadata": {"namespace": namespace, "name": name, "labels": {"app": app}}})
    }

    fn app_is(obj: &Value, app: &str) -> bool {
        obj.pointer("/metadata/labels/app").and_then(Value::as_str) == Some(app)
    }

    fn names(mut objects: Vec<Value>) -> Vec<String> {
        objects.sort_by_key(|obj| obj.name().to_string());
        objects.iter().map(|obj| obj.name().to_string()).collect()
    }

    #[test]
    fn list_by_namespace_with_and_without_index() {
        let indexed = Indexer::with_namespace_index();
        let plain = Indexer::new_store(meta_namespace_key_func());
        for indexer in [&indexed, &plain] {
            indexer.add(pod("a", "one", "web")).unwrap();
            indexer.add(pod("a", "two", "db")).unwrap();
            indexer.add(pod("b", "three", "web")).unwrap();
        }

        let cases: [(&str, &str, Vec<&str>); 4] = [
            ("a", "web", vec!["one"]),
            ("a", "db", vec!["two"]),
            ("", "web", vec!["one", "three"]),
            ("c", "web", vec![]),
        ];
        for (namespace, app, expected) in cases {
            for (which, indexer) in [("indexed", &indexed), ("plain", &plain)] {
                let got = list_by_namespace(indexer, namespace, |obj| app_is(obj, app));
                assert_eq!(
                    names(got),
                    expected,
                    "{which} namespace {namespace:?} app {app}"
                );
            }
        }
    }

    #[test]
    fn list_all_filters() {
        let indexer = Indexer::with_namespace_index();
        indexer.add(pod("a", "one", "web")).unwrap();
        indexer.add(pod("b", "two", "db")).unwrap();

        assert_eq!(names(list_all(&indexer, |_| true)), vec!["one", "two"]);
        assert_eq!(
            names(list_all(&indexer, |obj| app_is(obj, "db"))),
            vec!["two"]
        );
    }
}
