//! The run record of an analysis ([`RunInfo`]), assembled from its plan and results.

use gapmap_core::radio::predict::PremiseRadio;
use gapmap_io::write::output::FileDigest;

use super::compute::Results;
use crate::run_info::{Parameters, PredictionSummary, RunInfo};

/// The run record of `r`, which wrote `outputs` (run.json is added last), as `files`.
pub(super) fn run_info(
    r: &Results,
    outputs: Vec<String>,
    files: Vec<FileDigest>,
    database: Option<crate::database::DbRecord>,
) -> RunInfo {
    let plan = &r.plan;
    let mut inputs = vec![
        r.layers.settlements.info.clone(),
        r.layers.premises.info.clone(),
    ];
    if let Some((_, info)) = &r.layers.population {
        inputs.push(info.clone());
    }
    if let Some(f) = &r.layers.fibre {
        inputs.extend(f.infos.iter().cloned());
    }
    if let Some(m) = &r.layers.mobile {
        inputs.extend(m.infos.iter().cloned());
    }
    if let Some(info) = r.layers.backbone.as_ref().and_then(|b| b.info.clone()) {
        inputs.push(info);
    }
    if let Some((s, dem)) = &r.layers.sites {
        inputs.push(s.info.clone());
        if let Some(d) = dem {
            inputs.push(d.info.clone());
        }
    }
    for extra in [&r.layers.policy.fixed, &r.layers.policy.planned]
        .into_iter()
        .flatten()
    {
        inputs.extend(extra.infos.iter().cloned());
    }
    let clock = &r.meta.clock;
    let mut timings = clock.phases.clone();
    timings.push(clock.total(r.meta.t0));
    let params = r.checked.params;
    let premise = &plan.premise;
    let or = |v: &Option<String>, d: &str| v.as_deref().unwrap_or(d).to_string();
    let mut outputs = outputs;
    outputs.push("run.json".into());
    RunInfo {
        tool: "gapmap".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        command: "analyze".into(),
        started_utc: r.meta.started_utc.clone(),
        parameters: Parameters {
            bundled_region: r.bundled,
            crs: r.crs.label.clone(),
            assume_crs: r.crs.assumed.clone(),
            drop_distance_m: params.drop_distance_m,
            gap_cluster_m: params.gap_cluster_m,
            gap_margin_m: params.gap_margin_m,
            strict: plan.strict,
            threads: rayon::current_num_threads(),
            settlements_layer: plan.settlements_layer.clone(),
            fibre_layer: plan.fibre_layer.clone(),
            mobile_layer: plan.mobile_layer.clone(),
            settlement_id_field: or(&plan.settlement_id_field, "id"),
            settlement_name_field: or(&plan.settlement_name_field, "name"),
            fibre_network_field: or(&plan.fibre_network_field, "network"),
            mobile_operator_field: or(&plan.mobile_operator_field, "operator"),
            mobile_tech_field: or(&plan.mobile_tech_field, "tech"),
            out: plan.out.display().to_string(),
            overwrite: plan.overwrite,
            gpkg: plan.gpkg,
            map_simplify_m: plan.map_simplify_m,
            lang: plan.lang,
            outputs: plan
                .outputs
                .iter()
                .map(|o| format!("{o:?}").to_lowercase())
                .collect(),
            resilience: plan.resilience.parameters(),
            premises_layer: premise.premises_layer.clone(),
            households_field: or(&premise.households_field, "households"),
            workplaces_field: or(&premise.workplaces_field, "workplaces"),
            premise_id_field: or(&premise.premise_id_field, "id"),
            x_field: premise.x_field.clone(),
            y_field: premise.y_field.clone(),
            sites: plan.radio.sites.as_ref().map(|_| plan.radio.parameters()),
            policy: r.layers.policy.parameters(&plan.policy),
        },
        working_crs: r.crs.label.clone(),
        inputs,
        fibre_networks: r
            .layers
            .fibre
            .as_ref()
            .map(|f| f.networks.clone())
            .unwrap_or_default(),
        mobile_operators: match (&r.layers.sites, &r.layers.mobile) {
            (Some((s, _)), _) => s.operators.clone(),
            (None, Some(m)) => m.operators.clone(),
            (None, None) => Vec::new(),
        },
        mobile_technologies: r
            .layers
            .mobile
            .as_ref()
            .map(|m| m.tech_values.clone())
            .unwrap_or_default(),
        notices: r.meta.notices.clone(),
        totals: r.totals(),
        resilience: r
            .resilience
            .as_ref()
            .zip(plan.resilience.backbone.as_ref())
            .map(|(o, p)| o.summary(p)),
        prediction: r.site_prediction.as_ref().map(|p| {
            let count =
                |f: &dyn Fn(&PremiseRadio) -> bool| p.premises.iter().filter(|r| f(r)).count();
            PredictionSummary {
                sites: r.layers.sites.as_ref().map_or(0, |s| s.0.sites.len()),
                premises_4g_by_sites: count(&|r| r.sites_4g > 0),
                premises_5g_by_sites: count(&|r| r.sites_5g > 0),
                premises_single_4g_site: count(&|r| r.sites_4g == 1),
                premises_extrapolated: count(&|r| r.extrapolated),
            }
        }),
        population: r.layers.population.as_ref().map(|(p, _)| p.clone()),
        database,
        timings_s: timings,
        tiles: r.meta.tiles.clone(),
        outputs,
        files,
        plan: Some(plan.clone()),
    }
}
