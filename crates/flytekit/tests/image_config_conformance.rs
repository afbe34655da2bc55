//! Conformance: image placeholders and `--image` parsing against Python flytekit (the oracle in
//! `.venv`), on the same inputs. Results and error messages must be identical.

use flytekit::image::{ImageConfig, get_registerable_container_image};
use serde_json::{Value, json};

const ORACLE: &str = r#"
import json, sys
from flytekit.configuration import ImageConfig
from flytekit.core.python_auto_container import get_registerable_container_image

def outcome(f):
    try:
        return {"ok": f()}
    except (AssertionError, ValueError) as e:
        return {"err": str(e)}
    except Exception as e:  # flytekit crashes (e.g. None.version); only "it failed" is comparable
        return {"crash": type(e).__name__}

def cfg_dump(c):
    return {
        "default": c.default_image.full if c.default_image else None,
        "images": [[i.name, i.fqn, i.tag, i.digest] for i in (c.images or [])],
    }

req = json.load(sys.stdin)
out = {"placeholders": [], "cli": []}
for case in req["placeholders"]:
    def run(case=case):
        cfg = ImageConfig.from_images(case["default"], case["images"])
        return get_registerable_container_image(case["img"], cfg)
    out["placeholders"].append(outcome(run))
for values in req["cli"]:
    out["cli"].append(outcome(lambda values=values: cfg_dump(ImageConfig.validate_image(None, "image", tuple(values)))))
json.dump(out, sys.stdout)
"#;

fn cfg_dump(c: &ImageConfig) -> Value {
    json!({
        "default": c.default_image.as_ref().map(|i| i.full()),
        "images": c.images.iter().map(|i| json!([i.name, i.fqn, i.tag, i.digest])).collect::<Vec<_>>(),
    })
}

#[test]
fn placeholders_and_cli_values_match_flytekit() {
    let images = json!({
        "other": "ghcr.io/org/other:v2",
        "d": "ghcr.io/org/d@sha256:abcd",
        "notag": "ghcr.io/org/notag",
        "local": "localhost:5000/x",
        "Mixed-Case_1": "r.io/m:1",
    });
    let templates = [
        "{{.image.default.fqn}}:{{.image.default.version}}",
        "{{.image.other}}",
        "{{ .IMAGE.other.fqn }}:x",
        "{{.images.other.fqn}}:x",
        "{{.image.d.fqn}}:{{.image.d.version}}",
        "{{.image.d.version}}",
        "prefix-{{.image.d.version}}-suffix",
        "{{.image.d}}",
        "{{.image.notag.fqn}}:{{.image.notag.version}}",
        "{{.image.notag}}",
        "{{.image.local.fqn}}:{{.image.local.version}}",
        "{{.image.Mixed-Case_1.fqn}}",
        "{{.image.other.tag}}",
        "{{.image.nope}}",
        "{{.image.nope.fqn}}",
        "{{.image.}}",
        "{{.image}}",
        "{{   .Images.other   }}",
        "{{.image.other}}/{{.image.other}}",
        "{{.image.default}} and {{.image.other.version}}",
        "docker.io/library/python:3.11",
        "plain",
        "",
    ];
    let mut placeholder_cases = Vec::new();
    for img in templates {
        for default in [
            Some("ghcr.io/org/img:v1"),
            Some("ghcr.io/org/img@sha256:ffff"),
            None,
        ] {
            placeholder_cases.push(json!({"img": img, "default": default, "images": images}));
        }
    }
    placeholder_cases.push(json!({"img": null, "default": "ghcr.io/org/img:v1", "images": {}}));
    placeholder_cases.push(json!({"img": null, "default": null, "images": {}}));

    let cli_cases: Vec<Vec<&str>> = vec![
        vec!["ghcr.io/a/b:1"],
        vec!["ghcr.io/a/b:1", "x=ghcr.io/x:2"],
        vec!["x=ghcr.io/x@sha256:aa"],
        vec!["a:1", "default=b:2"],
        vec!["a:1", "b:2"],
        vec!["ghcr.io/a/b"],
        vec!["x=localhost:5000/y"],
        vec!["x=localhost:5000/y:t", "y=k=v:1"],
        vec![],
    ];
    let request = json!({"placeholders": placeholder_cases, "cli": cli_cases});
    let fallback = "cr.example/flytekit-rs/default:test";
    let code = format!("import os\nos.environ['FLYTE_INTERNAL_IMAGE'] = '{fallback}'\n{ORACLE}");
    let out = flytekit_oracle::run_code(&code, &[], request.to_string().as_bytes());
    let oracle: Value = serde_json::from_slice(&out.stdout).expect("oracle JSON");

    let mut checked = 0;
    for (case, want) in placeholder_cases
        .iter()
        .zip(oracle["placeholders"].as_array().expect("list"))
    {
        let others: Vec<(&str, &str)> = case["images"]
            .as_object()
            .expect("map")
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().expect("str")))
            .collect();
        let cfg = ImageConfig::from_images(case["default"].as_str(), others).expect("config");
        let got = get_registerable_container_image(case["img"].as_str(), &cfg);
        match (want.get("ok"), want.get("err"), &got) {
            (Some(ok), _, Ok(g)) => assert_eq!(ok.as_str(), Some(g.as_str()), "case {case}"),
            (_, Some(err), Err(e)) => {
                assert_eq!(err.as_str(), Some(e.to_string().as_str()), "case {case}")
            }
            (None, None, Err(_)) => {} // flytekit crashed; we return an error with a reason
            _ => panic!("case {case}: flytekit gave {want}, we gave {got:?}"),
        }
        checked += 1;
    }
    for (values, want) in cli_cases
        .iter()
        .zip(oracle["cli"].as_array().expect("list"))
    {
        let got = ImageConfig::from_cli_values_with(values, "image", Some(fallback.to_string()));
        match (want.get("ok"), want.get("err"), &got) {
            (Some(ok), _, Ok(c)) => assert_eq!(ok, &cfg_dump(c), "values {values:?}"),
            (_, Some(err), Err(e)) => {
                assert_eq!(
                    err.as_str(),
                    Some(e.to_string().as_str()),
                    "values {values:?}"
                )
            }
            _ => panic!("values {values:?}: flytekit gave {want}, we gave {got:?}"),
        }
        checked += 1;
    }
    assert_eq!(checked, placeholder_cases.len() + cli_cases.len());
}

#[test]
fn config_file_images_match_flytekit() {
    let dir = tempfile::tempdir().unwrap();
    let ini = dir.path().join("flytekit.config");
    std::fs::write(
        &ini,
        "[sdk]\nworkflow_packages=x\n\n[images]\n# a comment\nMy_Image = ghcr.io/a/b:1\nnotag: docker.io/flyte\nd=ghcr.io/d@sha256:ab\n",
    )
    .unwrap();
    let yaml = dir.path().join("config.yaml");
    std::fs::write(
        &yaml,
        "admin:\n  endpoint: dns:///localhost:30080\nimages:\n  spark: ghcr.io/s:3\n  plain: ghcr.io/p\n",
    )
    .unwrap();
    let code = r#"
import json, sys
from flytekit.configuration import ImageConfig
out = []
for path in sys.argv[1:]:
    c = ImageConfig.auto(config_file=path, img_name="ghcr.io/def:9")
    out.append([[i.name, i.fqn, i.tag, i.digest] for i in c.images])
json.dump(out, sys.stdout)
"#;
    let out =
        flytekit_oracle::run_code(code, &[ini.to_str().unwrap(), yaml.to_str().unwrap()], b"");
    let oracle: Value = serde_json::from_slice(&out.stdout).expect("oracle JSON");
    for (path, want) in [&ini, &yaml].into_iter().zip(oracle.as_array().unwrap()) {
        let c = ImageConfig::auto(Some(path), Some("ghcr.io/def:9")).unwrap();
        let got: Vec<Value> = c
            .images
            .iter()
            .map(|i| json!([i.name, i.fqn, i.tag, i.digest]))
            .collect();
        assert_eq!(want, &Value::Array(got), "{}", path.display());
    }
}
