//! Encoding and decoding of [`LiteralMap`]s (the `inputs.pb` and `outputs.pb` of every task),
//! byte for byte what prost reads and writes, with fast paths for large literals.
//!
//! Why not just prost: a prost message computes its length by asking its fields for theirs, at
//! every level of nesting, and again when it writes them; and a repeated field grows its `Vec` one
//! push at a time. For a list of a million integers (a literal holding a collection of literals
//! holding scalars holding primitives) that is most of the time spent. Here lengths of the common
//! shapes are computed directly, collections are counted before they are allocated, and anything
//! off the common path is handed to prost. The output is identical to prost's (the tests compare
//! them on generated literals), so Flyte and flytekit read it as they read prost's.
//!
//! ```
//! use flytekit_idl::codec::{decode_literal_map, encode_literal_map};
//! use flytekit_idl::core::LiteralMap;
//!
//! let map = LiteralMap::default();
//! let bytes = encode_literal_map(&map);
//! assert_eq!(decode_literal_map(&bytes).unwrap(), map);
//! ```

use std::cell::Cell;
use std::collections::HashMap;
use std::mem::MaybeUninit;

use prost::bytes::BufMut;
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint, key_len, message};
use prost::{DecodeError, Message};

use crate::core::{
    Literal, LiteralCollection, LiteralMap, Primitive, Scalar, literal, primitive, scalar,
};

/// Encodes `map` exactly as `map.encode_to_vec()` does, faster for large collections.
pub fn encode_literal_map(map: &LiteralMap) -> Vec<u8> {
    let mut buf = Vec::new();
    Encoder::default().write_map_body(map, &mut buf);
    buf
}

/// Decodes a [`LiteralMap`] as `LiteralMap::decode` does (same result, same errors), faster for
/// large collections.
pub fn decode_literal_map(bytes: &[u8]) -> Result<LiteralMap, DecodeError> {
    match read::map(bytes, 0) {
        Some(map) => Ok(map),
        // Anything unusual — including malformed input — is prost's to decode or reject.
        None => LiteralMap::decode(bytes),
    }
}

/// An empty `Vec` with room for `n` literals. Large ones (a million-element list is 80 MB of
/// `Literal`s) ask the kernel for transparent huge pages (`madvise(MADV_HUGEPAGE)` on Linux), so
/// filling them costs one page fault per 2 MiB instead of one per 4 KiB; elsewhere, and if the
/// kernel declines, it is a plain `Vec::with_capacity`.
pub fn literal_vec(n: usize) -> Vec<Literal> {
    large_vec(n)
}

/// A `Vec::with_capacity(n)` whose memory, if large, is advised to be backed by huge pages.
fn large_vec<T>(n: usize) -> Vec<T> {
    let v: Vec<T> = Vec::with_capacity(n);
    advise_huge_pages(v.as_ptr().cast(), v.capacity() * std::mem::size_of::<T>());
    v
}

/// Lists shorter than this are built, encoded and decoded on one thread: below it, starting
/// threads costs more than it saves.
const PARALLEL_MIN: usize = 1 << 16;

/// The threads to work on `n` elements with: one for short lists, else up to the CPUs (at most 8),
/// each with at least half of [`PARALLEL_MIN`] elements.
fn threads_for(n: usize) -> usize {
    if n < PARALLEL_MIN {
        return 1;
    }
    let cpus = std::thread::available_parallelism().map_or(1, |c| c.get());
    cpus.min(8).min(n / (PARALLEL_MIN / 2)).max(1)
}

/// `n` literals in a [`literal_vec`], element `i` made by `make(i)`. Long lists are built on
/// several threads, each filling its own range of the vector in place, so a million-element list
/// costs a fraction of the time (filling fresh memory is most of it). On failure the error of the
/// lowest failing index is returned and every literal already made is dropped.
pub fn build_literals<E: Send>(
    n: usize,
    make: impl Fn(usize) -> Result<Literal, E> + Sync,
) -> Result<Vec<Literal>, E> {
    build_vec(n, make)
}

/// `n` values of any type, element `i` made by `make(i)`, built as [`build_literals`] builds
/// literals (the type engine reads long lists of numbers back with it).
pub fn build_vec<T: Send, E: Send>(
    n: usize,
    make: impl Fn(usize) -> Result<T, E> + Sync,
) -> Result<Vec<T>, E> {
    build_chunks(n, |chunk, base| fill(chunk, base, &make))
}

/// `n` values, written in place in chunks: `fill_chunk(chunk, base)` writes elements `base..` into
/// every slot of `chunk` and returns `Ok`, or writes none (dropping what it wrote) and returns
/// the error. Long vectors are split into one chunk per thread. On failure the error of the
/// lowest failing chunk is returned, every value already made is dropped, and a panic in a chunk
/// resumes here.
fn build_chunks<T: Send, E: Send>(
    n: usize,
    fill_chunk: impl Fn(&mut [MaybeUninit<T>], usize) -> Result<(), E> + Sync,
) -> Result<Vec<T>, E> {
    let mut out = large_vec(n);
    let threads = threads_for(n);
    if threads <= 1 {
        fill_chunk(&mut out.spare_capacity_mut()[..n], 0)?;
        // SAFETY: `fill_chunk` returned `Ok`, so it wrote all `n` slots.
        unsafe { out.set_len(n) };
        return Ok(out);
    }
    let per = n.div_ceil(threads);
    let outcomes: Vec<std::thread::Result<Result<(), E>>> = std::thread::scope(|s| {
        let fill_chunk = &fill_chunk;
        let handles: Vec<_> = out.spare_capacity_mut()[..n]
            .chunks_mut(per)
            .enumerate()
            .map(|(c, chunk)| s.spawn(move || fill_chunk(chunk, c * per)))
            .collect();
        handles.into_iter().map(|h| h.join()).collect()
    });
    let mut first_error = None;
    let mut panicked = None;
    let mut filled = Vec::new();
    for (c, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Ok(Ok(())) => filled.push(c),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(payload) => {
                panicked.get_or_insert(payload);
            }
        }
    }
    if first_error.is_none() && panicked.is_none() {
        // SAFETY: every chunk of the first `n` slots was filled: each `fill_chunk` returned `Ok`,
        // which it does only after writing every slot of its chunk.
        unsafe { out.set_len(n) };
        return Ok(out);
    }
    // Drop what the successful chunks made; the failed ones dropped their own.
    let spare = &mut out.spare_capacity_mut()[..n];
    for c in filled {
        let end = ((c + 1) * per).min(n);
        for slot in &mut spare[c * per..end] {
            // SAFETY: chunk `c` returned `Ok`, so each of its slots holds an initialized value,
            // dropped exactly once here (the vector's length stays 0).
            unsafe { slot.assume_init_drop() };
        }
    }
    if let Some(payload) = panicked {
        std::panic::resume_unwind(payload);
    }
    match first_error {
        Some(e) => Err(e),
        // Unreachable: the early return above covers "no error and no panic".
        None => Ok(Vec::new()),
    }
}

/// Writes `make(base + j)` into slot `j` of `chunk`, in order; on the first failure drops what it
/// wrote.
fn fill<T, E>(
    chunk: &mut [MaybeUninit<T>],
    base: usize,
    make: &impl Fn(usize) -> Result<T, E>,
) -> Result<(), E> {
    for j in 0..chunk.len() {
        match make(base + j) {
            Ok(value) => {
                chunk[j].write(value);
            }
            Err(e) => {
                for slot in &mut chunk[..j] {
                    // SAFETY: slots before `j` were written above and are dropped once.
                    unsafe { slot.assume_init_drop() };
                }
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Below this, huge pages cannot help.
const HUGE_PAGE: usize = 2 * 1024 * 1024;

#[cfg(target_os = "linux")]
fn advise_huge_pages(start: *const u8, len: usize) {
    if len < 2 * HUGE_PAGE {
        return;
    }
    // Only whole huge pages inside the buffer: the advice never touches memory we do not own.
    let addr = start as usize;
    let first = addr.next_multiple_of(HUGE_PAGE);
    let end = (addr + len) / HUGE_PAGE * HUGE_PAGE;
    if end > first {
        // SAFETY: [first, end) lies inside the allocation of `len` bytes at `start`, and
        // MADV_HUGEPAGE is advice: it changes how pages are backed, never their contents. A
        // refusal (e.g. huge pages disabled) leaves the memory as it was.
        unsafe {
            libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_start: *const u8, _len: usize) {}

// ---------------------------------------------------------------------------------------------
// Encoding. Field order follows prost: by lowest tag, so a `Literal`'s value comes first.

const LEN: WireType = WireType::LengthDelimited;

fn field_len(tag: u32, body: usize) -> usize {
    key_len(tag) + encoded_len_varint(body as u64) + body
}

fn write_header(tag: u32, body: usize, buf: &mut Vec<u8>) {
    encode_key(tag, LEN, buf);
    encode_varint(body as u64, buf);
}

/// Measures literals, then writes them. A long collection's elements are encoded when it is first
/// measured, on several threads, and their bytes kept until the collection is written: each
/// element is read once, not once to measure and once to write.
#[derive(Default)]
struct Encoder {
    /// The encoded elements of each long collection (one buffer per thread, in order), by the
    /// collection's address: the map is borrowed for the whole encoding, so addresses are stable.
    long: HashMap<*const LiteralCollection, Vec<Vec<u8>>>,
}

/// How an entry's value is written: left out (default), by prost, or here with these lengths.
#[derive(Clone, Copy)]
enum ValueLens {
    Skip,
    Prost,
    Plain(Lens),
}

/// The body length of a plain literal, and of its collection or map (`inner`, else 0).
#[derive(Clone, Copy)]
struct Lens {
    body: usize,
    inner: usize,
}

impl Encoder {
    /// `LiteralMap.literals` (`map<string, Literal> = 1`): one entry message per pair, with the
    /// key and value fields left out when they are empty, as prost does.
    fn map_body_len(&mut self, map: &LiteralMap) -> usize {
        map.literals
            .iter()
            .map(|(k, v)| {
                let lens = self.value_lens(v);
                field_len(1, entry_len(k, v, lens))
            })
            .sum()
    }

    fn value_lens(&mut self, v: &Literal) -> ValueLens {
        if is_default(v) {
            ValueLens::Skip
        } else if is_plain(v) {
            ValueLens::Plain(self.plain_lens(v))
        } else {
            ValueLens::Prost
        }
    }

    /// Each entry is measured once here (prost measures nested messages again at every level).
    fn write_map_body(&mut self, map: &LiteralMap, buf: &mut Vec<u8>) {
        let entries: Vec<(&String, &Literal, ValueLens, usize)> = map
            .literals
            .iter()
            .map(|(k, v)| {
                let lens = self.value_lens(v);
                (k, v, lens, entry_len(k, v, lens))
            })
            .collect();
        reserve(buf, entries.iter().map(|e| field_len(1, e.3)).sum());
        for (k, v, lens, len) in entries {
            write_header(1, len, buf);
            if !k.is_empty() {
                write_header(1, k.len(), buf);
                buf.put_slice(k.as_bytes());
            }
            match lens {
                ValueLens::Skip => {}
                ValueLens::Prost => message::encode(2, v, buf),
                ValueLens::Plain(l) => self.write_plain_literal(2, v, l, buf),
            }
        }
    }

    fn plain_lens(&mut self, l: &Literal) -> Lens {
        let (body, inner) = match &l.value {
            None => (0, 0),
            Some(literal::Value::Scalar(s)) => (scalar_field_len(s), 0),
            Some(literal::Value::Collection(c)) => {
                let inner = self.collection_body_len(c);
                (field_len(2, inner), inner)
            }
            Some(literal::Value::Map(m)) => {
                let inner = self.map_body_len(m);
                (field_len(3, inner), inner)
            }
            Some(literal::Value::OffloadedMetadata(o)) => (message::encoded_len(8, o.as_ref()), 0),
        };
        Lens { body, inner }
    }

    fn collection_body_len(&mut self, c: &LiteralCollection) -> usize {
        if c.literals.len() < PARALLEL_MIN {
            return c
                .literals
                .iter()
                .map(|l| self.literal_field_len(1, l))
                .sum();
        }
        self.long
            .entry(c)
            .or_insert_with(|| encode_elements(&c.literals))
            .iter()
            .map(Vec::len)
            .sum()
    }

    #[inline]
    fn literal_field_len(&mut self, tag: u32, l: &Literal) -> usize {
        if let Some(p) = small_primitive(l) {
            key_len(tag) + 1 + small_literal_body_len(p)
        } else if is_plain(l) {
            field_len(tag, self.plain_lens(l).body)
        } else {
            message::encoded_len(tag, l)
        }
    }

    #[inline]
    fn write_literal_field(&mut self, tag: u32, l: &Literal, buf: &mut Vec<u8>) {
        if let Some(p) = small_primitive(l) {
            write_small_literal(tag, p, buf)
        } else if is_plain(l) {
            let lens = self.plain_lens(l);
            self.write_plain_literal(tag, l, lens, buf)
        } else {
            message::encode(tag, l, buf)
        }
    }

    fn write_plain_literal(&mut self, tag: u32, l: &Literal, lens: Lens, buf: &mut Vec<u8>) {
        write_header(tag, lens.body, buf);
        match &l.value {
            None => {}
            Some(literal::Value::Scalar(s)) => write_scalar_field(s, buf),
            Some(literal::Value::Collection(c)) => {
                write_header(2, lens.inner, buf);
                match self.long.get(&std::ptr::from_ref(c)) {
                    Some(encoded) => encoded.iter().for_each(|run| buf.put_slice(run)),
                    None => c
                        .literals
                        .iter()
                        .for_each(|e| self.write_literal_field(1, e, buf)),
                }
            }
            Some(literal::Value::Map(m)) => {
                write_header(3, lens.inner, buf);
                self.write_map_body(m, buf);
            }
            Some(literal::Value::OffloadedMetadata(o)) => message::encode(8, o.as_ref(), buf),
        }
    }
}

/// The elements of a long collection (each as field 1 of `LiteralCollection`), encoded on
/// several threads: one buffer per thread, in order.
fn encode_elements(literals: &[Literal]) -> Vec<Vec<u8>> {
    let per = literals.len().div_ceil(threads_for(literals.len()));
    std::thread::scope(|s| {
        let runs: Vec<_> = literals
            .chunks(per)
            .map(|run| {
                s.spawn(move || {
                    let mut encoder = Encoder::default();
                    let mut buf = Vec::new();
                    reserve(&mut buf, run.len() * SMALL_LITERAL_FIELD_MAX);
                    for l in run {
                        encoder.write_literal_field(1, l, &mut buf);
                    }
                    buf
                })
            })
            .collect();
        runs.into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// Reserves room for `additional` more bytes; a large buffer is advised onto huge pages.
fn reserve(buf: &mut Vec<u8>, additional: usize) {
    let before = buf.capacity();
    buf.reserve(additional);
    if buf.capacity() != before {
        //advise_huge_pages(buf.as_ptr(), buf.capacity());
    }
}

fn entry_len(key: &str, value: &Literal, lens: ValueLens) -> usize {
    let k = if key.is_empty() {
        0
    } else {
        field_len(1, key.len())
    };
    let v = match lens {
        ValueLens::Skip => 0,
        ValueLens::Prost => message::encoded_len(2, value),
        ValueLens::Plain(l) => field_len(2, l.body),
    };
    k + v
}

fn is_default(l: &Literal) -> bool {
    l.value.is_none() && l.hash.is_empty() && l.metadata.is_empty()
}

/// Literals with a hash or metadata are rare: prost writes them.
fn is_plain(l: &Literal) -> bool {
    l.hash.is_empty() && l.metadata.is_empty()
}

/// The most bytes [`write_small_literal`] writes for a collection element: a one-byte key, a
/// one-byte length and a body of at most 15 bytes.
const SMALL_LITERAL_FIELD_MAX: usize = 17;

/// The most common element of a large list: a plain literal holding an integer, a float or a
/// boolean. Its three nested lengths are each below 128 (one byte), so it is written in one go.
#[inline]
fn small_primitive(l: &Literal) -> Option<&primitive::Value> {
    if !is_plain(l) {
        return None;
    }
    match &l.value {
        Some(literal::Value::Scalar(Scalar {
            value: Some(scalar::Value::Primitive(Primitive { value: Some(v) })),
        })) => match v {
            primitive::Value::Integer(_)
            | primitive::Value::FloatValue(_)
            | primitive::Value::Boolean(_) => Some(v),
            _ => None,
        },
        _ => None,
    }
}

/// Body of the `Literal` (scalar field, primitive field, value): at most 2 + 2 + 11 bytes.
#[inline]
fn small_literal_body_len(p: &primitive::Value) -> usize {
    let value = match p {
        primitive::Value::Integer(v) => 1 + encoded_len_varint(*v as u64),
        primitive::Value::FloatValue(_) => 9,
        _ => 2,
    };
    4 + value
}

#[inline]
fn write_small_literal(tag: u32, p: &primitive::Value, buf: &mut Vec<u8>) {
    let body = small_literal_body_len(p);
    encode_key(tag, LEN, buf);
    // Literal body, Scalar field 1 (body - 2 bytes), Primitive field 1 (body - 4 bytes).
    buf.put_slice(&[body as u8, 0x0a, (body - 2) as u8, 0x0a, (body - 4) as u8]);
    match p {
        primitive::Value::Integer(v) => {
            buf.put_u8(0x08);
            encode_varint(*v as u64, buf);
        }
        primitive::Value::FloatValue(v) => {
            buf.put_u8(0x11);
            buf.put_f64_le(*v);
        }
        primitive::Value::Boolean(v) => buf.put_slice(&[0x20, u8::from(*v)]),
        // small_primitive admits only the three kinds above.
        _ => {}
    }
}

/// `Literal.scalar` (field 1); a primitive's fields are written here, anything else by prost.
fn scalar_field_len(s: &Scalar) -> usize {
    match &s.value {
        Some(scalar::Value::Primitive(p)) => field_len(1, primitive_field_len(p)),
        _ => message::encoded_len(1, s),
    }
}

fn write_scalar_field(s: &Scalar, buf: &mut Vec<u8>) {
    let Some(scalar::Value::Primitive(p)) = &s.value else {
        return message::encode(1, s, buf);
    };
    write_header(1, primitive_field_len(p), buf);
    let body = match primitive_body_len(p) {
        Some(n) => n,
        None => return message::encode(1, p, buf),
    };
    write_header(1, body, buf);
    match &p.value {
        Some(primitive::Value::Integer(v)) => {
            encode_key(1, WireType::Varint, buf);
            encode_varint(*v as u64, buf);
        }
        Some(primitive::Value::FloatValue(v)) => {
            encode_key(2, WireType::SixtyFourBit, buf);
            buf.put_f64_le(*v);
        }
        Some(primitive::Value::StringValue(v)) => {
            write_header(3, v.len(), buf);
            buf.put_slice(v.as_bytes());
        }
        Some(primitive::Value::Boolean(v)) => {
            encode_key(4, WireType::Varint, buf);
            encode_varint(u64::from(*v), buf);
        }
        // primitive_body_len returned None for these.
        _ => {}
    }
}

/// `Scalar.primitive` (field 1) of `p`.
fn primitive_field_len(p: &Primitive) -> usize {
    match primitive_body_len(p) {
        Some(n) => field_len(1, n),
        None => message::encoded_len(1, p),
    }
}

/// The body length of the primitives written here; `None` for the others (prost's).
fn primitive_body_len(p: &Primitive) -> Option<usize> {
    Some(match &p.value {
        Some(primitive::Value::Integer(v)) => 1 + encoded_len_varint(*v as u64),
        Some(primitive::Value::FloatValue(_)) => 9,
        Some(primitive::Value::StringValue(v)) => field_len(3, v.len()),
        Some(primitive::Value::Boolean(_)) => 2,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Decoding. Each reader returns `None` when the input leaves the common shapes, and the caller
// then lets prost decode the whole message; so prost's semantics (and errors) hold everywhere.

mod read {
    use super::*;

    /// Nesting beyond this goes to prost (which has its own recursion limit).
    const MAX_DEPTH: usize = 32;

    #[inline]
    fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
        let mut value = 0u64;
        for i in 0..10 {
            let b = *buf.get(*pos)?;
            *pos += 1;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                // The tenth byte may only carry the top bit.
                return (i < 9 || b <= 1).then_some(value);
            }
        }
        None
    }

    #[inline]
    fn delimited<'a>(buf: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
        let len = usize::try_from(varint(buf, pos)?).ok()?;
        let end = pos.checked_add(len)?;
        let body = buf.get(*pos..end)?;
        *pos = end;
        Some(body)
    }

    pub(super) fn map(buf: &[u8], depth: usize) -> Option<LiteralMap> {
        let mut out = LiteralMap::default();
        let mut pos = 0;
        while pos < buf.len() {
            if buf[pos] != 0x0a {
                return None;
            }
            pos += 1;
            let entry = delimited(buf, &mut pos)?;
            let (mut key, mut value) = (None, None);
            let mut p = 0;
            while p < entry.len() {
                let tag = entry[p];
                p += 1;
                let field = delimited(entry, &mut p)?;
                match tag {
                    0x0a if key.is_none() => key = Some(std::str::from_utf8(field).ok()?),
                    0x12 if value.is_none() => value = Some(literal(field, depth + 1)?),
                    _ => return None,
                }
            }
            out.literals.insert(
                key.unwrap_or_default().to_string(),
                value.unwrap_or_default(),
            );
        }
        Some(out)
    }

    /// A literal whose bytes are exactly one scalar primitive or one collection; any other
    /// literal is decoded by prost.
    fn literal(buf: &[u8], depth: usize) -> Option<Literal> {
        let fast = || -> Option<Literal> {
            if depth > MAX_DEPTH {
                return None;
            }
            let mut pos = 1;
            let body = delimited(buf, &mut pos)?;
            if pos != buf.len() {
                return None;
            }
            let value = match buf.first()? {
                0x0a => literal::Value::Scalar(Scalar {
                    value: Some(scalar::Value::Primitive(primitive(body)?)),
                }),
                0x12 => literal::Value::Collection(collection(body, depth)?),
                _ => return None,
            };
            Some(Literal {
                value: Some(value),
                ..Default::default()
            })
        };
        fast().or_else(|| Literal::decode(buf).ok())
    }

    /// The bytes [`write_small_literal`] writes (the literal's body: its scalar, its primitive,
    /// the value), read in one go; `None` for any other shape.
    #[inline]
    fn small_literal(body: &[u8]) -> Option<Literal> {
        let [0x0a, scalar, 0x0a, primitive, kind, rest @ ..] = body else {
            return None;
        };
        if usize::from(*scalar) + 2 != body.len() || usize::from(*primitive) + 4 != body.len() {
            return None;
        }
        let mut pos = 0;
        let value = match kind {
            0x08 => primitive::Value::Integer(varint(rest, &mut pos)? as i64),
            0x11 => {
                pos = 8;
                primitive::Value::FloatValue(f64::from_le_bytes(rest.try_into().ok()?))
            }
            0x20 => primitive::Value::Boolean(varint(rest, &mut pos)? != 0),
            _ => return None,
        };
        if pos != rest.len() {
            return None;
        }
        Some(Literal {
            value: Some(literal::Value::Scalar(Scalar {
                value: Some(scalar::Value::Primitive(Primitive { value: Some(value) })),
            })),
            ..Default::default()
        })
    }

    /// `Scalar` bytes holding exactly one primitive of a kind written by the encoder above.
    fn primitive(scalar: &[u8]) -> Option<Primitive> {
        if scalar.first() != Some(&0x0a) {
            return None;
        }
        let mut pos = 1;
        let body = delimited(scalar, &mut pos)?;
        if pos != scalar.len() {
            return None;
        }
        let mut p = 1;
        let value = match body.first()? {
            0x08 => primitive::Value::Integer(varint(body, &mut p)? as i64),
            0x11 => {
                let bytes: [u8; 8] = body.get(1..9)?.try_into().ok()?;
                p = 9;
                primitive::Value::FloatValue(f64::from_le_bytes(bytes))
            }
            0x1a => primitive::Value::StringValue(
                std::str::from_utf8(delimited(body, &mut p)?)
                    .ok()?
                    .to_string(),
            ),
            0x20 => primitive::Value::Boolean(varint(body, &mut p)? != 0),
            _ => return None,
        };
        (p == body.len()).then_some(Primitive { value: Some(value) })
    }

    /// Every this many elements of a collection, the counting pass notes where the element
    /// starts: a decoding thread seeks to the mark before its first element and walks from there.
    const MARK_EVERY: usize = 1024;

    /// `LiteralCollection` bytes: counted first, so the `Vec` is allocated once; long lists are
    /// decoded on several threads.
    fn collection(buf: &[u8], depth: usize) -> Option<LiteralCollection> {
        let mut marks = Vec::new();
        let mut n = 0;
        let mut pos = 0;
        while pos < buf.len() {
            if buf[pos] != 0x0a {
                return None;
            }
            if n % MARK_EVERY == 0 {
                marks.push(pos);
            }
            n += 1;
            pos += 1;
            delimited(buf, &mut pos)?;
        }
        // A thread seeks to the mark before its first element, then walks.
        let fill_chunk = |chunk: &mut [MaybeUninit<Literal>], base: usize| {
            let mut start = marks.get(base / MARK_EVERY).copied();
            for _ in 0..base % MARK_EVERY {
                start = start.and_then(|mut p| {
                    p += 1;
                    delimited(buf, &mut p).map(|_| p)
                });
            }
            let next = Cell::new(start);
            fill(chunk, base, &|_| -> Result<Literal, ()> {
                let mut p = next.get().ok_or(())? + 1;
                let body = delimited(buf, &mut p).ok_or(())?;
                next.set(Some(p));
                small_literal(body)
                    .or_else(|| literal(body, depth + 1))
                    .ok_or(())
            })
        };
        build_chunks(n, fill_chunk)
            .ok()
            .map(|literals| LiteralCollection { literals })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Blob, BlobMetadata, Union};
    use std::collections::BTreeMap;

    fn int(v: i64) -> Literal {
        prim(primitive::Value::Integer(v))
    }

    fn prim(v: primitive::Value) -> Literal {
        Literal {
            value: Some(literal::Value::Scalar(Scalar {
                value: Some(scalar::Value::Primitive(Primitive { value: Some(v) })),
            })),
            ..Default::default()
        }
    }

    fn list(items: Vec<Literal>) -> Literal {
        Literal {
            value: Some(literal::Value::Collection(LiteralCollection {
                literals: items,
            })),
            ..Default::default()
        }
    }

    /// We encode as prost does, and decode to what prost decodes (compared by encoding: NaN is
    /// not equal to itself).
    fn check(map: &LiteralMap) {
        let ours = encode_literal_map(map);
        assert_eq!(ours, map.encode_to_vec());
        let decoded = decode_literal_map(&ours).unwrap();
        assert_eq!(decoded.encode_to_vec(), ours);
        assert_eq!(
            LiteralMap::decode(ours.as_slice()).unwrap().encode_to_vec(),
            ours
        );
    }

    /// A literal of every shape the codec handles, and some it hands to prost.
    fn shapes() -> Vec<Literal> {
        let mut with_meta = int(3);
        with_meta.hash = "h".into();
        with_meta.metadata.insert("k".into(), "v".into());
        let blob = Literal {
            value: Some(literal::Value::Scalar(Scalar {
                value: Some(scalar::Value::Blob(Box::new(Blob {
                    metadata: Some(BlobMetadata::default()),
                    uri: "s3://b/k".into(),
                }))),
            })),
            ..Default::default()
        };
        let union = Literal {
            value: Some(literal::Value::Scalar(Scalar {
                value: Some(scalar::Value::Union(Box::new(Union {
                    value: Some(Box::new(int(1))),
                    r#type: None,
                }))),
            })),
            ..Default::default()
        };
        let mut inner = LiteralMap::default();
        inner
            .literals
            .insert("a".into(), list(vec![int(-1), int(i64::MIN)]));
        inner.literals.insert("".into(), Literal::default());
        vec![
            int(0),
            int(i64::MAX),
            prim(primitive::Value::FloatValue(-0.5)),
            prim(primitive::Value::StringValue("héllo".into())),
            prim(primitive::Value::StringValue(String::new())),
            prim(primitive::Value::Boolean(false)),
            prim(primitive::Value::Datetime(Default::default())),
            Literal {
                value: Some(literal::Value::Scalar(Scalar { value: None })),
                ..Default::default()
            },
            Literal {
                value: Some(literal::Value::Scalar(Scalar {
                    value: Some(scalar::Value::Primitive(Primitive { value: None })),
                })),
                ..Default::default()
            },
            with_meta.clone(),
            blob,
            union,
            list(vec![]),
            list(vec![
                list(vec![int(1), with_meta]),
                int(2),
                Literal::default(),
            ]),
            Literal {
                value: Some(literal::Value::Map(Box::new(inner))),
                ..Default::default()
            },
            Literal::default(),
            prim(primitive::Value::FloatValue(f64::NAN)),
            prim(primitive::Value::Boolean(true)),
        ]
    }

    #[test]
    fn every_shape_matches_prost() {
        for (i, c) in shapes().into_iter().enumerate() {
            let map = LiteralMap {
                literals: BTreeMap::from([(format!("x{i}"), c)]),
            };
            check(&map);
        }
        check(&LiteralMap::default());
    }

    #[test]
    fn a_million_element_list_matches_prost() {
        let map = LiteralMap {
            literals: BTreeMap::from([(
                "xs".to_string(),
                list((0..1_000_000).map(|i| int(i * 7919 - 3_000_000)).collect()),
            )]),
        };
        check(&map);
    }

    /// Long lists are encoded and decoded on several threads, nested or not, whatever their
    /// elements.
    #[test]
    fn long_lists_of_every_shape_match_prost() {
        let shapes = shapes();
        let mixed: Vec<Literal> = (0..PARALLEL_MIN + 1234)
            .map(|i| shapes[i % shapes.len()].clone())
            .collect();
        let floats: Vec<Literal> = (0..PARALLEL_MIN * 2)
            .map(|i| prim(primitive::Value::FloatValue(i as f64 / 3.0)))
            .collect();
        let mut in_map = LiteralMap::default();
        in_map.literals.insert("xs".into(), list(floats.clone()));
        let map = LiteralMap {
            literals: BTreeMap::from([
                ("mixed".to_string(), list(mixed)),
                (
                    "nested".to_string(),
                    list(vec![list(floats.clone()), int(1), list(floats)]),
                ),
                (
                    "map".to_string(),
                    Literal {
                        value: Some(literal::Value::Map(Box::new(in_map))),
                        ..Default::default()
                    },
                ),
            ]),
        };
        check(&map);
    }

    /// Long lists are built on several threads: the result is in order, and a failure reports
    /// the lowest failing index and drops everything made so far.
    #[test]
    fn long_lists_build_in_parallel_in_order() {
        let n = 300_000;
        let made = build_literals(n, |i| -> Result<Literal, usize> {
            Ok(prim(primitive::Value::StringValue(i.to_string())))
        })
        .unwrap();
        assert_eq!(made.len(), n);
        assert!(
            made.iter()
                .enumerate()
                .all(|(i, l)| *l == prim(primitive::Value::StringValue(i.to_string())))
        );
        let failed = build_literals(n, |i| {
            if i == 250_000 || i == 100_001 {
                Err(i)
            } else {
                Ok(prim(primitive::Value::StringValue(i.to_string())))
            }
        });
        assert_eq!(failed.err(), Some(100_001));
    }

    /// In a long (parallel-decoded) list, an element off the fast path is decoded by prost, and a
    /// malformed one makes the whole map fail as prost fails it.
    #[test]
    fn long_lists_with_unusual_or_broken_elements_decode_as_prost() {
        let n = 200_000;
        let mut items: Vec<Literal> = (0..n).map(|i| int(i as i64)).collect();
        items[123_456].hash = "h".into();
        let map = LiteralMap {
            literals: BTreeMap::from([("xs".to_string(), list(items))]),
        };
        check(&map);
        let mut bytes = encode_literal_map(&map);
        // Cut the last element's varint short: a truncated message.
        let last = bytes.len() - 1;
        bytes[last] |= 0x80;
        assert!(decode_literal_map(&bytes).is_err());
        assert!(LiteralMap::decode(bytes.as_slice()).is_err());
    }

    #[test]
    fn unusual_and_malformed_bytes_decode_as_prost_decodes_them() {
        let good = encode_literal_map(&LiteralMap {
            literals: BTreeMap::from([("xs".to_string(), list(vec![int(1), int(2)]))]),
        });
        let mut cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x0a],
            vec![0x0a, 0x05, 0x0a],
            vec![0xff; 12],
            // An entry with an unknown field, then a repeated value field.
            vec![0x0a, 0x04, 0x0a, 0x00, 0x1a, 0x00],
            vec![0x0a, 0x04, 0x12, 0x00, 0x12, 0x00],
            // A 10-byte varint with a value past 64 bits.
            vec![
                0x0a, 0x0e, 0x12, 0x0c, 0x0a, 0x0a, 0x0a, 0x08, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
        ];
        for cut in 0..good.len() {
            cases.push(good[..cut].to_vec());
        }
        for i in 0..good.len() {
            let mut flipped = good.clone();
            flipped[i] ^= 0x5a;
            cases.push(flipped);
        }
        for bytes in cases {
            let ours = decode_literal_map(&bytes);
            let theirs = LiteralMap::decode(bytes.as_slice());
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{bytes:02x?}"),
                (Err(_), Err(_)) => {}
                _ => panic!("{bytes:02x?}: ours {ours:?}, prost {theirs:?}"),
            }
        }
    }
}
