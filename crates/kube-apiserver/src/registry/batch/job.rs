//! Strategies of jobs and cron jobs (upstream's `pkg/registry/batch/job`,
//! `.../cronjob`, `pkg/apis/batch/v1/defaults.go` and `pkg/apis/batch/validation`).
//!
//! A job without `manualSelector: true` gets a generated selector on create: its pod
//! template is labeled with the job's uid and name, and the selector matches the uid.

use std::collections::BTreeMap;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::labels::label_selector_as_selector;
use k8s_openapi::api::batch::v1::{CronJob, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::Value;

use crate::registry::pod_spec::common::{
    go_string_map, json_value, validate_annotations, validate_immutable, validate_label_selector,
    validate_labels, validate_optional_nonnegative,
};
use crate::registry::pod_spec::defaults::default_pod_template_spec;
use crate::registry::pod_spec::validation::validate_pod_template_spec;
use crate::registry::strategy::Strategy;

use super::cron;

/// Label with the job's uid, as upstream names it since v1.27.
pub const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
/// Label with the job's name, as upstream names it since v1.27.
pub const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";
/// Label with the job's uid, as older clients read it.
pub const LEGACY_CONTROLLER_UID_LABEL: &str = "controller-uid";
/// Label with the job's name, as older clients read it.
pub const LEGACY_JOB_NAME_LABEL: &str = "job-name";

/// The longest CronJob name: job names get an 11-character suffix and must stay within
/// a 63-character DNS-1035 label.
pub const MAX_CRON_JOB_NAME_LENGTH: usize = 52;

/// Strategy of `jobs`.
#[derive(Clone, Copy, Debug, Default)]
pub struct JobStrategy;

impl Strategy for JobStrategy {
    type Object = Job;

    /// Defaults completions and parallelism to 1 (parallelism alone when completions is
    /// set), `backoffLimit` to 6, the completion mode to NonIndexed, `suspend` to false,
    /// the pod replacement policy, and the job's labels to the template's.
    fn default(&self, job: &mut Job) {
        let spec = job.spec.get_or_insert_with(Default::default);
        if spec.completions.is_none() && spec.parallelism.is_none() {
            spec.completions = Some(1);
            spec.parallelism = Some(1);
        }
        spec.parallelism.get_or_insert(1);
        if spec.backoff_limit.is_none() {
            spec.backoff_limit = Some(if spec.backoff_limit_per_index.is_some() {
                i32::MAX
            } else {
                6
            });
        }
        if spec.completion_mode.is_none() {
            spec.completion_mode = Some("NonIndexed".to_string());
        }
        spec.suspend.get_or_insert(false);
        if let Some(policy) = spec.pod_failure_policy.as_mut() {
            for rule in &mut policy.rules {
                for pattern in rule.on_pod_conditions.iter_mut().flatten() {
                    if pattern.status.is_empty() {
                        pattern.status = "True".to_string();
                    }
                }
            }
        }
        if spec.pod_replacement_policy.is_none() {
            let policy = if spec.pod_failure_policy.is_some() {
                "Failed"
            } else {
                "TerminatingOrFailed"
            };
            spec.pod_replacement_policy = Some(policy.to_string());
        }
        let template_labels = spec
            .template
            .metadata
            .as_ref()
            .and_then(|metadata| metadata.labels.clone());
        if let Some(labels) = template_labels
            && job.metadata.labels.as_ref().is_none_or(BTreeMap::is_empty)
        {
            job.metadata.labels = Some(labels);
        }
        default_pod_template_spec(&mut spec.template);
    }

    /// Generates the selector unless `manualSelector` is true, and clears the status.
    /// Reads `metadata.uid`, which the store sets before this call.
    fn prepare_for_create(&self, job: &mut Job) {
        let manual = job.spec.as_ref().and_then(|spec| spec.manual_selector) == Some(true);
        if !manual {
            generate_selector(job);
        }
        job.status = None;
    }

    fn prepare_for_update(&self, job: &mut Job, old: &Job) {
        job.status = old.status.clone();
    }

    fn validate(&self, job: &Job) -> Vec<FieldError> {
        let mut errors = validate_generated_selector(job);
        errors.extend(validate_job_spec_with_selector(
            &job.spec.clone().unwrap_or_default(),
            &FieldPath::new("spec"),
        ));
        errors
    }

    fn validate_update(&self, job: &Job, old: &Job) -> Vec<FieldError> {
        let spec = job.spec.clone().unwrap_or_default();
        let old_spec = old.spec.clone().unwrap_or_default();
        let path = FieldPath::new("spec");
        let mut errors = validate_job_spec_with_selector(&spec, &path);
        let elastic_indexed = spec.completion_mode.as_deref() == Some("Indexed")
            && spec.completions == spec.parallelism
            && old_spec.completions == old_spec.parallelism;
        if !elastic_indexed {
            errors.extend(validate_immutable(
                &spec.completions,
                &old_spec.completions,
                &path.child("completions"),
            ));
        }
        errors.extend(validate_immutable(
            &spec.selector,
            &old_spec.selector,
            &path.child("selector"),
        ));
        errors.extend(validate_template_update(
            &spec,
            &old_spec,
            job,
            &path.child("template"),
        ));
        errors.extend(validate_immutable(
            &spec.completion_mode,
            &old_spec.completion_mode,
            &path.child("completionMode"),
        ));
        errors.extend(validate_immutable(
            &spec.pod_failure_policy,
            &old_spec.pod_failure_policy,
            &path.child("podFailurePolicy"),
        ));
        errors.extend(validate_immutable(
            &spec.backoff_limit_per_index,
            &old_spec.backoff_limit_per_index,
            &path.child("backoffLimitPerIndex"),
        ));
        errors.extend(validate_immutable(
            &spec.managed_by,
            &old_spec.managed_by,
            &path.child("managedBy"),
        ));
        errors
    }

    fn tracks_generation(&self) -> bool {
        true
    }

    fn validate_status_update(&self, job: &Job, _old: &Job) -> Vec<FieldError> {
        let status = job.status.clone().unwrap_or_default();
        let path = FieldPath::new("status");
        let mut errors = Vec::new();
        for (value, field) in [
            (status.active, "active"),
            (status.succeeded, "succeeded"),
            (status.failed, "failed"),
            (status.ready, "ready"),
            (status.terminating, "terminating"),
        ] {
            errors.extend(validate_optional_nonnegative(
                value.map(i64::from),
                &path.child(field),
            ));
        }
        errors
    }

    fn selectable_fields(&self, job: &Value) -> BTreeMap<String, String> {
        let succeeded = job["status"]["succeeded"].as_i64().unwrap_or(0);
        BTreeMap::from([("status.successful".to_string(), succeeded.to_string())])
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        &["status.successful"]
    }
}

fn generate_selector(job: &mut Job) {
    let name = job.metadata.name.clone().unwrap_or_default();
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let spec = job.spec.get_or_insert_with(Default::default);
    let labels = spec
        .template
        .metadata
        .get_or_insert_with(Default::default)
        .labels
        .get_or_insert_with(BTreeMap::new);
    // A label the user set keeps its value; a conflict is rejected by validation.
    for key in [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL] {
        labels
            .entry(key.to_string())
            .or_insert_with(|| name.clone());
    }
    for key in [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL] {
        labels.entry(key.to_string()).or_insert_with(|| uid.clone());
    }
    let selector = spec.selector.get_or_insert_with(LabelSelector::default);
    selector
        .match_labels
        .get_or_insert_with(BTreeMap::new)
        .entry(CONTROLLER_UID_LABEL.to_string())
        .or_insert(uid);
}

/// Checks that a generated selector and the template labels carry the job's uid and
/// name, as upstream's `ValidateGeneratedSelector`.
fn validate_generated_selector(job: &Job) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = job.spec.clone().unwrap_or_default();
    if spec.manual_selector == Some(true) {
        return errors;
    }
    let Some(selector) = spec.selector.as_ref() else {
        return errors;
    };
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let name = job.metadata.name.clone().unwrap_or_default();
    if uid.is_empty() {
        errors.push(FieldError::required(
            &FieldPath::from_names(["metadata", "uid"]),
            "",
        ));
    }
    let metadata_path = FieldPath::from_names(["spec", "template", "metadata"]);
    let labels = spec
        .template
        .metadata
        .as_ref()
        .and_then(|metadata| metadata.labels.clone());
    for (key, expected) in [
        (LEGACY_CONTROLLER_UID_LABEL, &uid),
        (LEGACY_JOB_NAME_LABEL, &name),
        (CONTROLLER_UID_LABEL, &uid),
        (JOB_NAME_LABEL, &name),
    ] {
        let label_path = metadata_path.child("labels").key(key);
        match labels.as_ref().and_then(|labels| labels.get(key)) {
            None => errors.push(FieldError::required(
                &label_path,
                format!("must be '{expected}'"),
            )),
            Some(actual) if actual != expected => errors.push(FieldError::invalid(
                &label_path,
                go_string_map(labels.as_ref()),
                format!("must be '{expected}'"),
            )),
            Some(_) => {}
        }
    }
    let expected = BTreeMap::from([
        (CONTROLLER_UID_LABEL.to_string(), uid.clone()),
        (JOB_NAME_LABEL.to_string(), name.clone()),
        (LEGACY_CONTROLLER_UID_LABEL.to_string(), uid),
        (LEGACY_JOB_NAME_LABEL.to_string(), name),
    ]);
    if let Ok(parsed) = label_selector_as_selector(Some(selector))
        && !parsed.matches(&expected)
    {
        errors.push(FieldError::invalid(
            &FieldPath::from_names(["spec", "selector"]),
            json_value(selector),
            "`selector` not auto-generated",
        ));
    }
    errors
}

fn validate_job_spec_with_selector(spec: &JobSpec, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = validate_job_spec(spec, path);
    let selector_path = path.child("selector");
    match spec.selector.as_ref() {
        None => errors.push(FieldError::required(&selector_path, "")),
        Some(selector) => errors.extend(validate_label_selector(Some(selector), &selector_path)),
    }
    if let Ok(parsed) = label_selector_as_selector(spec.selector.as_ref()) {
        let labels = spec
            .template
            .metadata
            .as_ref()
            .and_then(|metadata| metadata.labels.clone());
        if !parsed.matches(&labels) {
            errors.push(FieldError::invalid(
                &path.child("template").child("metadata").child("labels"),
                go_string_map(labels.as_ref()),
                "`selector` does not match template `labels`",
            ));
        }
    }
    errors
}

/// Validates a job spec without its selector, as upstream's `validateJobSpec`.
fn validate_job_spec(spec: &JobSpec, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    errors.extend(validate_optional_nonnegative(
        spec.parallelism.map(i64::from),
        &path.child("parallelism"),
    ));
    errors.extend(validate_optional_nonnegative(
        spec.completions.map(i64::from),
        &path.child("completions"),
    ));
    errors.extend(validate_optional_nonnegative(
        spec.active_deadline_seconds,
        &path.child("activeDeadlineSeconds"),
    ));
    errors.extend(validate_optional_nonnegative(
        spec.backoff_limit.map(i64::from),
        &path.child("backoffLimit"),
    ));
    errors.extend(validate_optional_nonnegative(
        spec.ttl_seconds_after_finished.map(i64::from),
        &path.child("ttlSecondsAfterFinished"),
    ));

    match spec.completion_mode.as_deref() {
        None | Some("NonIndexed") => {}
        Some("Indexed") => match spec.completions {
            None => errors.push(FieldError::required(
                &path.child("completions"),
                "when completion mode is Indexed",
            )),
            Some(completions) if completions > 100_000 => errors.push(FieldError::invalid(
                &path.child("completions"),
                completions,
                "must be less than or equal to 100000 when completion mode is Indexed",
            )),
            Some(_) => {}
        },
        Some(other) => errors.push(FieldError::not_supported(
            &path.child("completionMode"),
            other,
            &["NonIndexed", "Indexed"],
        )),
    }
    if let Some(policy) = spec.pod_replacement_policy.as_deref() {
        let policy_path = path.child("podReplacementPolicy");
        if spec.pod_failure_policy.is_some() && policy != "Failed" {
            errors.push(FieldError::not_supported(&policy_path, policy, &["Failed"]));
        } else if policy != "TerminatingOrFailed" && policy != "Failed" {
            errors.push(FieldError::not_supported(
                &policy_path,
                policy,
                &["Failed", "TerminatingOrFailed"],
            ));
        }
    }

    let template_path = path.child("template");
    errors.extend(validate_pod_template_spec(&spec.template, &template_path));
    let restart_policy = spec
        .template
        .spec
        .as_ref()
        .and_then(|pod| pod.restart_policy.clone())
        .unwrap_or_default();
    if restart_policy != "OnFailure" && restart_policy != "Never" {
        errors.push(FieldError::not_supported(
            &template_path.child("spec").child("restartPolicy"),
            restart_policy.as_str(),
            &["OnFailure", "Never"],
        ));
    } else if restart_policy == "OnFailure" && spec.pod_failure_policy.is_some() {
        errors.push(FieldError::invalid(
            &template_path.child("spec").child("restartPolicy"),
            restart_policy.as_str(),
            "only \"Never\" is supported when podFailurePolicy is specified",
        ));
    }
    errors
}

/// Rejects template changes, except the scheduling directives of a suspended job that
/// never started (node selector, tolerations, labels, annotations, scheduling gates).
fn validate_template_update(
    spec: &JobSpec,
    old_spec: &JobSpec,
    job: &Job,
    path: &FieldPath,
) -> Vec<FieldError> {
    let suspended_unstarted = old_spec.suspend == Some(true)
        && job
            .status
            .as_ref()
            .and_then(|status| status.start_time.as_ref())
            .is_none();
    let mut template = spec.template.clone();
    if suspended_unstarted {
        let old_template = &old_spec.template;
        if let (Some(pod), Some(old_pod)) = (template.spec.as_mut(), old_template.spec.as_ref()) {
            pod.node_selector = old_pod.node_selector.clone();
            pod.tolerations = old_pod.tolerations.clone();
            pod.scheduling_gates = old_pod.scheduling_gates.clone();
            pod.affinity = old_pod.affinity.clone();
        }
        if let (Some(metadata), Some(old_metadata)) =
            (template.metadata.as_mut(), old_template.metadata.as_ref())
        {
            metadata.labels = old_metadata.labels.clone();
            metadata.annotations = old_metadata.annotations.clone();
        }
    }
    if template != old_spec.template {
        return vec![FieldError::invalid(
            path,
            json_value(&spec.template),
            crate::registry::pod_spec::common::FIELD_IMMUTABLE_ERROR_MSG,
        )];
    }
    Vec::new()
}

/// Strategy of `cronjobs`.
#[derive(Clone, Copy, Debug, Default)]
pub struct CronJobStrategy;

impl Strategy for CronJobStrategy {
    type Object = CronJob;

    /// Defaults the concurrency policy to Allow, `suspend` to false and the history
    /// limits to 3 successful and 1 failed job, plus the job template's pod defaults.
    fn default(&self, cron_job: &mut CronJob) {
        let spec = cron_job.spec.get_or_insert_with(Default::default);
        if spec.concurrency_policy.as_deref().is_none_or(str::is_empty) {
            spec.concurrency_policy = Some("Allow".to_string());
        }
        spec.suspend.get_or_insert(false);
        spec.successful_jobs_history_limit.get_or_insert(3);
        spec.failed_jobs_history_limit.get_or_insert(1);
        if let Some(job_spec) = spec.job_template.spec.as_mut() {
            default_pod_template_spec(&mut job_spec.template);
        }
    }

    fn prepare_for_create(&self, cron_job: &mut CronJob) {
        cron_job.status = None;
    }

    fn prepare_for_update(&self, cron_job: &mut CronJob, old: &CronJob) {
        cron_job.status = old.status.clone();
    }

    fn validate(&self, cron_job: &CronJob) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let name = cron_job.metadata.name.as_deref().unwrap_or_default();
        if name.len() > MAX_CRON_JOB_NAME_LENGTH {
            errors.push(FieldError::invalid(
                &FieldPath::from_names(["metadata", "name"]),
                name,
                "must be no more than 52 characters",
            ));
        }
        let schedule = cron_job
            .spec
            .as_ref()
            .map(|spec| spec.schedule.as_str())
            .unwrap_or_default();
        if schedule.contains("TZ") {
            errors.push(FieldError::invalid(
                &FieldPath::from_names(["spec", "schedule"]),
                schedule,
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            ));
        }
        errors.extend(validate_cron_job_spec(cron_job));
        errors
    }

    fn validate_update(&self, cron_job: &CronJob, _old: &CronJob) -> Vec<FieldError> {
        validate_cron_job_spec(cron_job)
    }

    fn tracks_generation(&self) -> bool {
        true
    }
}

fn validate_cron_job_spec(cron_job: &CronJob) -> Vec<FieldError> {
    let spec = cron_job.spec.clone().unwrap_or_default();
    let path = FieldPath::new("spec");
    let mut errors = Vec::new();
    let schedule_path = path.child("schedule");
    if spec.schedule.is_empty() {
        errors.push(FieldError::required(&schedule_path, ""));
    } else if let Err(error) = cron::parse_standard(&spec.schedule) {
        errors.push(FieldError::invalid(
            &schedule_path,
            spec.schedule.as_str(),
            error.to_string(),
        ));
    }
    if let Some(zone) = spec.time_zone.as_deref()
        && (zone.is_empty()
            || zone.contains(char::is_whitespace)
            || zone.starts_with('/')
            || zone.contains(".."))
    {
        // NOTE: upstream loads the zone from the tz database; only malformed names
        // are rejected here.
        errors.push(FieldError::invalid(
            &path.child("timeZone"),
            zone,
            format!("unknown time zone {zone}"),
        ));
    }
    errors.extend(validate_optional_nonnegative(
        spec.starting_deadline_seconds,
        &path.child("startingDeadlineSeconds"),
    ));
    let policy_path = path.child("concurrencyPolicy");
    match spec.concurrency_policy.as_deref().unwrap_or_default() {
        "Allow" | "Forbid" | "Replace" => {}
        "" => errors.push(FieldError::required(&policy_path, "")),
        other => errors.push(FieldError::not_supported(
            &policy_path,
            other,
            &["Allow", "Forbid", "Replace"],
        )),
    }
    errors.extend(validate_optional_nonnegative(
        spec.successful_jobs_history_limit.map(i64::from),
        &path.child("successfulJobsHistoryLimit"),
    ));
    errors.extend(validate_optional_nonnegative(
        spec.failed_jobs_history_limit.map(i64::from),
        &path.child("failedJobsHistoryLimit"),
    ));
    errors.extend(validate_job_template(
        &spec.job_template,
        &path.child("jobTemplate"),
    ));
    errors
}

fn validate_job_template(template: &JobTemplateSpec, path: &FieldPath) -> Vec<FieldError> {
    let metadata = template.metadata.as_ref();
    let mut errors = validate_labels(
        metadata.and_then(|m| m.labels.as_ref()),
        &path.child("metadata").child("labels"),
    );
    errors.extend(validate_annotations(
        metadata.and_then(|m| m.annotations.as_ref()),
        &path.child("metadata").child("annotations"),
    ));
    let spec = template.spec.clone().unwrap_or_default();
    let spec_path = path.child("spec");
    errors.extend(validate_job_spec(&spec, &spec_path));
    if let Some(selector) = spec.selector.as_ref() {
        errors.push(FieldError::invalid(
            &spec_path.child("selector"),
            json_value(selector),
            "`selector` will be auto-generated",
        ));
    }
    if spec.manual_selector == Some(true) {
        errors.push(FieldError::not_supported(
            &spec_path.child("manualSelector"),
            true,
            &["nil", "false"],
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(errors: Vec<FieldError>) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    fn job(spec: Value) -> Job {
        let mut job: Job = serde_json::from_value(
            json!({"metadata": {"name": "pi", "uid": "uid-1"}, "spec": spec}),
        )
        .expect("decodes");
        JobStrategy.default(&mut job);
        job
    }

    fn pod_template(restart_policy: &str) -> Value {
        json!({"spec": {"restartPolicy": restart_policy, "containers": [{"name": "pi", "image": "perl"}]}})
    }

    #[test]
    fn defaults_and_generated_selector() {
        let mut job = job(json!({"template": pod_template("Never")}));
        JobStrategy.prepare_for_create(&mut job);
        let spec = serde_json::to_value(&job.spec).expect("encodes");
        assert_eq!(spec["completions"], 1);
        assert_eq!(spec["parallelism"], 1);
        assert_eq!(spec["backoffLimit"], 6);
        assert_eq!(spec["completionMode"], "NonIndexed");
        assert_eq!(spec["suspend"], false);
        assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
        assert_eq!(
            spec["selector"],
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "uid-1"}})
        );
        assert_eq!(
            spec["template"]["metadata"]["labels"],
            json!({"batch.kubernetes.io/controller-uid": "uid-1", "batch.kubernetes.io/job-name": "pi",
                   "controller-uid": "uid-1", "job-name": "pi"})
        );
        assert_eq!(messages(JobStrategy.validate(&job)), Vec::<String>::new());
    }

    #[test]
    fn job_rules() {
        let mut always = job(json!({"template": pod_template("Always")}));
        JobStrategy.prepare_for_create(&mut always);
        assert_eq!(
            messages(JobStrategy.validate(&always)),
            vec![
                "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""
            ]
        );

        let mut manual = job(json!({"manualSelector": true, "template": pod_template("Never")}));
        JobStrategy.prepare_for_create(&mut manual);
        // Upstream's nil selector selects nothing, so the template never matches it.
        assert_eq!(
            messages(JobStrategy.validate(&manual)),
            vec![
                "spec.selector: Required value",
                "spec.template.metadata.labels: Invalid value: null: `selector` does not match template `labels`",
            ]
        );

        let mut negative = job(json!({"parallelism": -1, "template": pod_template("Never")}));
        JobStrategy.prepare_for_create(&mut negative);
        assert_eq!(
            messages(JobStrategy.validate(&negative)),
            vec!["spec.parallelism: Invalid value: -1: must be greater than or equal to 0"]
        );
    }

    #[test]
    fn template_is_immutable() {
        let mut old = job(json!({"template": pod_template("Never")}));
        JobStrategy.prepare_for_create(&mut old);
        let mut new = old.clone();
        new.spec
            .as_mut()
            .expect("spec")
            .template
            .spec
            .as_mut()
            .expect("pod")
            .containers[0]
            .image = Some("perl:2".into());
        let errors = messages(JobStrategy.validate_update(&new, &old));
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("spec.template: Invalid value: {"),
            "{errors:?}"
        );
        assert!(errors[0].ends_with(": field is immutable"), "{errors:?}");
    }

    #[test]
    fn cron_job_defaults_and_rules() {
        let mut cron_job: CronJob = serde_json::from_value(json!({"metadata": {"name": "hello"},
            "spec": {"schedule": "*/1 * * * *", "jobTemplate": {"spec": {"template": pod_template("OnFailure")}}}})).expect("decodes");
        CronJobStrategy.default(&mut cron_job);
        let spec = serde_json::to_value(&cron_job.spec).expect("encodes");
        assert_eq!(spec["concurrencyPolicy"], "Allow");
        assert_eq!(spec["suspend"], false);
        assert_eq!(spec["successfulJobsHistoryLimit"], 3);
        assert_eq!(spec["failedJobsHistoryLimit"], 1);
        assert!(spec["jobTemplate"]["spec"].get("completions").is_none());
        assert_eq!(
            messages(CronJobStrategy.validate(&cron_job)),
            Vec::<String>::new()
        );

        let mut bad = cron_job.clone();
        bad.metadata.name = Some("x".repeat(53));
        bad.spec.as_mut().expect("spec").schedule = "every minute".into();
        bad.spec.as_mut().expect("spec").concurrency_policy = Some("Sometimes".into());
        assert_eq!(
            messages(CronJobStrategy.validate(&bad)),
            vec![
                format!("metadata.name: Invalid value: \"{}\": must be no more than 52 characters", "x".repeat(53)),
                "spec.schedule: Invalid value: \"every minute\": expected exactly 5 fields, found 2: [every minute]".to_string(),
                "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\"".to_string(),
            ]
        );
    }
}
