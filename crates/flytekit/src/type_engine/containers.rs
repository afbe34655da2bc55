//! Collections, maps and optionals: `Vec<T>`, `HashMap<String, T>`, `BTreeMap<String, T>`,
//! `Option<T>`.

use std::collections::{BTreeMap, HashMap};

use flytekit_idl::core::{
    Literal, LiteralCollection, LiteralMap, LiteralType, SimpleType, Union, UnionType, literal,
    literal_type, scalar,
};

use super::literals::{
    is_none, none_literal, scalar_literal, scalar_of, simple_type, unwrap_union, with_tag,
};
use super::{ConversionContext, FlyteType, TypeError};

impl<T: FlyteType> FlyteType for Vec<T> {
    fn literal_type() -> LiteralType {
        LiteralType {
            r#type: Some(literal_type::Type::CollectionType(Box::new(
                T::literal_type(),
            ))),
            ..Default::default()
        }
    }

    async fn to_literal(&self, cx: &ConversionContext) -> Result<Literal, TypeError> {
        if self.first().is_some_and(|x| x.to_literal_now().is_some()) {
            // Pure conversions: long lists are built on several threads.
            let literals = flytekit_idl::codec::build_literals(self.len(), |i| {
                self[i]
                    .to_literal_now()
                    .unwrap_or_else(|| {
                        Err(TypeError::Other(
                            "to_literal_now gave no literal for some elements only".into(),
                        ))
                    })
                    .map_err(|e| e.at(format!("[{i}]")))
            })?;
            return Ok(Literal {
                value: Some(literal::Value::Collection(LiteralCollection { literals })),
                ..Default::default()
            });
        }
        let mut literals = flytekit_idl::codec::literal_vec(self.len());
        for (i, item) in self.iter().enumerate() {
            literals.push(
                item.to_literal(cx)
                    .await
                    .map_err(|e| e.at(format!("[{i}]")))?,
            );
        }
        Ok(Literal {
            value: Some(literal::Value::Collection(LiteralCollection { literals })),
            ..Default::default()
        })
    }

    async fn from_literal(literal: &Literal, cx: &ConversionContext) -> Result<Self, TypeError> {
        let Some(literal::Value::Collection(c)) = &unwrap_union(literal).value else {
            return Err(TypeError::mismatch(&Self::literal_type(), literal));
        };
        let items = &c.literals;
        if items
            .first()
            .is_some_and(|x| T::from_literal_now(x).is_some())
        {
            // Pure conversions: long lists are read on several threads.
            return flytekit_idl::codec::build_vec(items.len(), |i| {
                T::from_literal_now(&items[i])
                    .unwrap_or_else(|| {
                        Err(TypeError::Other(
                            "from_literal_now gave no value for some literals only".into(),
                        ))
                    })
                    .map_err(|e| e.at(format!("[{i}]")))
            });
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            out.push(
                T::from_literal(item, cx)
                    .await
                    .map_err(|e| e.at(format!("[{i}]")))?,
            );
        }
        Ok(out)
    }
}

fn map_type<T: FlyteType>() -> LiteralType {
    LiteralType {
        r#type: Some(literal_type::Type::MapValueType(
            Box::new(T::literal_type()),
        )),
        ..Default::default()
    }
}

async fn map_to_literal<'a, T: FlyteType>(
    entries: impl Iterator<Item = (&'a String, &'a T)>,
    cx: &ConversionContext,
) -> Result<Literal, TypeError> {
    let mut literals = BTreeMap::new();
    for (key, value) in entries {
        literals.insert(
            key.clone(),
            value
                .to_literal(cx)
                .await
                .map_err(|e| e.at(format!("[{key:?}]")))?,
        );
    }
    Ok(Literal {
        value: Some(literal::Value::Map(Box::new(LiteralMap { literals }))),
        ..Default::default()
    })
}

async fn map_from_literal<T: FlyteType, C: FromIterator<(String, T)>>(
    literal: &Literal,
    cx: &ConversionContext,
) -> Result<C, TypeError> {
    let Some(literal::Value::Map(m)) = &unwrap_union(literal).value else {
        return Err(TypeError::mismatch(&map_type::<T>(), literal));
    };
    let mut out = Vec::with_capacity(m.literals.len());
    for (key, value) in &m.literals {
        out.push((
            key.clone(),
            T::from_literal(value, cx)
                .await
                .map_err(|e| e.at(format!("[{key:?}]")))?,
        ));
    }
    Ok(out.into_iter().collect())
}

impl<T: FlyteType, S: std::hash::BuildHasher + Default + Send + Sync + 'static> FlyteType
    for HashMap<String, T, S>
{
    fn literal_type() -> LiteralType {
        map_type::<T>()
    }

    async fn to_literal(&self, cx: &ConversionContext) -> Result<Literal, TypeError> {
        map_to_literal(self.iter(), cx).await
    }

    async fn from_literal(literal: &Literal, cx: &ConversionContext) -> Result<Self, TypeError> {
        map_from_literal(literal, cx).await
    }
}

impl<T: FlyteType> FlyteType for BTreeMap<String, T> {
    fn literal_type() -> LiteralType {
        map_type::<T>()
    }

    async fn to_literal(&self, cx: &ConversionContext) -> Result<Literal, TypeError> {
        map_to_literal(self.iter(), cx).await
    }

    async fn from_literal(literal: &Literal, cx: &ConversionContext) -> Result<Self, TypeError> {
        map_from_literal(literal, cx).await
    }
}

/// The union variant flytekit uses for `None` in `Optional[T]`: `NONE` tagged `"none"`.
fn none_variant() -> LiteralType {
    with_tag(simple_type(SimpleType::None), "none")
}

/// `Option<T>` is flytekit's `Optional[T]`: the union of `T` (tagged with its transformer name) and
/// `NONE` (tagged `"none"`), in that order. Values are written union-wrapped, with the variant's
/// type as the union's stored type; bare values and bare `None` are accepted on read.
impl<T: FlyteType> FlyteType for Option<T> {
    fn literal_type() -> LiteralType {
        LiteralType {
            r#type: Some(literal_type::Type::UnionType(UnionType {
                variants: vec![with_tag(T::literal_type(), &T::type_tag()), none_variant()],
            })),
            ..Default::default()
        }
    }

    async fn to_literal(&self, cx: &ConversionContext) -> Result<Literal, TypeError> {
        let (value, stored_type) = match self {
            Some(v) => (
                v.to_literal(cx).await?,
                with_tag(T::literal_type(), &T::type_tag()),
            ),
            None => (none_literal(), none_variant()),
        };
        Ok(scalar_literal(scalar::Value::Union(Box::new(Union {
            value: Some(Box::new(value)),
            r#type: Some(stored_type),
        }))))
    }

    async fn from_literal(literal: &Literal, cx: &ConversionContext) -> Result<Self, TypeError> {
        match scalar_of(literal) {
            Some(scalar::Value::Union(u)) => {
                let Some(value) = u.value.as_deref() else {
                    return Err(TypeError::mismatch(&Self::literal_type(), literal));
                };
                let tag = u
                    .r#type
                    .as_ref()
                    .and_then(|t| t.structure.as_ref())
                    .map(|s| s.tag.as_str());
                match (is_none(value), tag == Some("none")) {
                    (true, _) => Ok(None),
                    // Tagged as the none variant but holding something else.
                    (false, true) => Err(TypeError::mismatch(&Self::literal_type(), literal)),
                    (false, false) => T::from_literal(value, cx).await.map(Some),
                }
            }
            Some(scalar::Value::NoneType(_)) => Ok(None),
            _ => T::from_literal(literal, cx).await.map(Some),
        }
    }
}
