//! Serialisation of rendered objects: multi-document YAML and the JSON form.

use std::collections::BTreeMap;

use crate::{Error, Rendered, Stage};

pub(crate) fn to_yaml(rendered: &Rendered) -> Result<String, Error> {
    let mut out = String::with_capacity(rendered.objects.len() * 1536);
    for staged in &rendered.objects {
        out.push_str("---\n");
        let doc =
            serde_yaml::to_string(&staged.object).map_err(|e| Error::Serialize(e.to_string()))?;
        out.push_str(&doc);
    }
    Ok(out)
}

pub(crate) fn to_json_value(rendered: &Rendered) -> Result<serde_json::Value, Error> {
    let objects = rendered
        .objects
        .iter()
        .map(|o| serde_json::to_value(&o.object))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Serialize(e.to_string()))?;
    let mut stages: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for stage in Stage::ALL {
        stages.insert(
            stage.as_str(),
            rendered.stage(stage).map(|o| o.key()).collect(),
        );
    }
    Ok(serde_json::json!({
        "platform_version": rendered.platform_version,
        "objects": objects,
        "stages": stages,
    }))
}
