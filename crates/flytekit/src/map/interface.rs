//! The name and interface of a map task, as flytekit 1.16 derives them from the inner task and
//! the options: `<module>.map_<function>_<md5>-arraynode`, mapped inputs and outputs lifted to
//! lists (optional elements when some may fail).

use std::collections::BTreeSet;

use flytekit_idl::core::{
    LiteralType, SimpleType, TypedInterface, UnionType, VariableMap, literal_type,
};

use super::spec::{MapSpec, SuccessCriterion};
use crate::type_engine::literals::{simple_type, with_tag};

/// Python's `repr` of a float, which flytekit hashes into the map task name (`1.0`, `0.5`,
/// `1e-05`).
fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        // Rust writes `1e-5`, `1.5e16`; Python `1e-05`, `1.5e+16`.
        let s = format!("{f:e}");
        if let Some((mantissa, exp)) = s.split_once('e') {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            return format!("{mantissa}e{sign}{digits:0>2}");
        }
        return s;
    }
    let s = format!("{f}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

fn py_opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "None".into())
}

/// `<mod>.map_<f>_<md5(bound + concurrency + min_successes + min_success_ratio)>-arraynode`.
pub(super) fn map_task_name(spec: &MapSpec) -> String {
    let inner = &spec.inner;
    let (module, function) = match inner.location() {
        Some(l) => (l.module.clone(), l.name.clone()),
        // Instance tasks: flytekit uses the task type and the instance's name.
        None => (
            inner.config().task_type.clone(),
            inner.short_name().to_string(),
        ),
    };
    let (min_successes, ratio) = match spec.criterion {
        SuccessCriterion::All => (None, Some(py_float(1.0))),
        SuccessCriterion::MinSuccesses(n) => (Some(n), None),
        SuccessCriterion::MinSuccessRatio(r) => (None, Some(py_float(r))),
    };
    let bound = spec
        .bound_inputs
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let key = format!(
        "{bound}{}{}{}",
        py_opt(spec.concurrency),
        py_opt(min_successes),
        ratio.unwrap_or_else(|| "None".into())
    );
    let digest = hex::encode(<md5::Md5 as md5::Digest>::digest(key.as_bytes()));
    format!("{module}.map_{function}_{digest}-arraynode")
}

/// `List[T]` of `t`.
fn list_of(t: LiteralType) -> LiteralType {
    LiteralType {
        r#type: Some(literal_type::Type::CollectionType(Box::new(t))),
        ..Default::default()
    }
}

/// `Optional[T]` of `t`, tagged as flytekit tags union variants.
fn optional_of(t: LiteralType) -> LiteralType {
    let tag = crate::type_engine::type_tag_of(&t);
    LiteralType {
        r#type: Some(literal_type::Type::UnionType(UnionType {
            variants: vec![
                with_tag(t, tag),
                with_tag(simple_type(SimpleType::None), "none"),
            ],
        })),
        ..Default::default()
    }
}

/// The map task's interface: mapped inputs and all outputs lifted to lists (flytekit's
/// `transform_interface_to_list_interface`); descriptions are the names, as flytekit's.
pub(super) fn collection_interface(spec: &MapSpec) -> TypedInterface {
    let lift = |map: Option<&VariableMap>, bound: &BTreeSet<String>, optional: bool| {
        let mut out = VariableMap::default();
        for (name, var) in map.map(|m| &m.variables).into_iter().flatten() {
            let ty = var.r#type.clone().unwrap_or_default();
            let ty = if bound.contains(name) {
                ty
            } else if optional {
                list_of(optional_of(ty))
            } else {
                list_of(ty)
            };
            out.variables
                .insert(name.clone(), crate::workflow::variable(name, &ty));
        }
        out
    };
    let i = spec.inner.interface();
    TypedInterface {
        inputs: Some(lift(i.inputs.as_ref(), &spec.bound_inputs, false)),
        outputs: Some(lift(
            i.outputs.as_ref(),
            &BTreeSet::new(),
            spec.optional_outputs(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_repr() {
        assert_eq!(py_float(1.0), "1.0");
        assert_eq!(py_float(0.5), "0.5");
        assert_eq!(py_float(0.75), "0.75");
        assert_eq!(py_float(0.1), "0.1");
        assert_eq!(py_float(0.0), "0.0");
        assert_eq!(py_float(1e-5), "1e-05");
        assert_eq!(py_float(1.5e-7), "1.5e-07");
        assert_eq!(py_float(0.0001), "0.0001");
    }
}
