//! What an ELF binary or shared library asks of the system it runs on, read with the `object`
//! crate (lazily, so a large binary is not read whole): its dynamic loader (`PT_INTERP`), the
//! libraries it links (`DT_NEEDED`, with `DT_RUNPATH`/`DT_RPATH`), the symbol versions it needs
//! from each (`.gnu.version_r`, e.g. `GLIBC_2.34` from `libc.so.6`) and, for a library, the
//! versions it defines (`.gnu.version_d`: glibc's `libc.so.6` defines `GLIBC_2.2.5` up to its
//! own release).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use object::elf;
use object::read::elf::{ElfFile64, FileHeader, ProgramHeader};
use object::{Endianness, ReadCache};

/// The dynamic-linking facts of one ELF file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ElfInfo {
    /// `PT_INTERP`: the dynamic loader's path, `None` for a static binary or a library.
    pub interpreter: Option<String>,
    /// `DT_NEEDED`: the libraries it links, in order.
    pub needed: Vec<String>,
    /// `DT_RUNPATH` and `DT_RPATH` directories, in order (`$ORIGIN` not yet substituted).
    pub runpath: Vec<String>,
    /// Versions needed per library file: `libc.so.6` → `GLIBC_2.34`, ...
    pub version_needs: BTreeMap<String, Vec<String>>,
    /// Versions this file defines (a library's `.gnu.version_d`; its own soname first).
    pub version_defs: Vec<String>,
}

/// A file that is not a readable 64-bit ELF file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct ElfError {
    /// The file.
    pub path: std::path::PathBuf,
    /// Why it cannot be read as one (not ELF, 32-bit, truncated, ...).
    pub message: String,
}

/// Reads the dynamic-linking facts of the 64-bit ELF file at `path`.
pub fn read(path: &Path) -> Result<ElfInfo, ElfError> {
    read_facts(path).map_err(|message| ElfError {
        path: path.to_path_buf(),
        message,
    })
}

fn read_facts(path: &Path) -> Result<ElfInfo, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let cache = ReadCache::new(file);
    let elf = ElfFile64::<Endianness, _>::parse(&cache)
        .map_err(|e| format!("not a 64-bit ELF file ({e}); images run linux/amd64 ELF binaries"))?;
    let endian = elf.endian();
    let data = elf.data();
    let mut info = ElfInfo::default();
    let header = elf.elf_header();
    for ph in header
        .program_headers(endian, data)
        .map_err(|e| e.to_string())?
    {
        if ph.p_type(endian) == elf::PT_INTERP
            && let Some(bytes) = ph.interpreter(endian, data).map_err(|e| e.to_string())?
        {
            info.interpreter = Some(String::from_utf8_lossy(bytes).into_owned());
        }
    }
    let sections = elf.elf_section_table();
    let dynamic = sections
        .dynamic_table(endian, data)
        .map_err(|e| e.to_string())?;
    for d in dynamic.iter() {
        let text = || {
            dynamic
                .string(d)
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .map_err(|e| e.to_string())
        };
        match d.tag {
            elf::DT_NEEDED => info.needed.push(text()?),
            elf::DT_RUNPATH | elf::DT_RPATH => info.runpath.extend(
                text()?
                    .split(':')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            ),
            _ => {}
        }
    }
    if let Some((mut needs, link)) = sections
        .gnu_verneed(endian, data)
        .map_err(|e| e.to_string())?
    {
        let strings = sections
            .strings(endian, data, link)
            .map_err(|e| e.to_string())?;
        while let Some((need, mut aux)) = needs.next().map_err(|e| e.to_string())? {
            let file =
                String::from_utf8_lossy(need.file(endian, strings).map_err(|e| e.to_string())?)
                    .into_owned();
            let versions = info.version_needs.entry(file).or_default();
            while let Some(a) = aux.next().map_err(|e| e.to_string())? {
                versions.push(
                    String::from_utf8_lossy(a.name(endian, strings).map_err(|e| e.to_string())?)
                        .into_owned(),
                );
            }
        }
    }
    if let Some((mut defs, link)) = sections
        .gnu_verdef(endian, data)
        .map_err(|e| e.to_string())?
    {
        let strings = sections
            .strings(endian, data, link)
            .map_err(|e| e.to_string())?;
        while let Some((_, mut aux)) = defs.next().map_err(|e| e.to_string())? {
            // The first auxiliary entry names the version; the others its parents.
            if let Some(a) = aux.next().map_err(|e| e.to_string())? {
                info.version_defs.push(
                    String::from_utf8_lossy(a.name(endian, strings).map_err(|e| e.to_string())?)
                        .into_owned(),
                );
            }
        }
    }
    Ok(info)
}

/// The numeric parts of a `GLIBC_x.y[.z]` version name (`None` for `GLIBC_PRIVATE` and
/// non-glibc names).
pub fn glibc_version(name: &str) -> Option<Vec<u32>> {
    let rest = name.strip_prefix("GLIBC_")?;
    rest.split('.').map(|p| p.parse().ok()).collect()
}

/// The highest `GLIBC_x.y[.z]` among `names`, as `x.y[.z]`.
pub fn max_glibc<'a>(names: impl IntoIterator<Item = &'a String>) -> Option<String> {
    names
        .into_iter()
        .filter_map(|n| glibc_version(n).map(|v| (v, n)))
        .max()
        .map(|(_, n)| n.trim_start_matches("GLIBC_").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_test_binary() {
        let exe = std::env::current_exe().unwrap();
        let info = read(&exe).unwrap();
        assert!(
            info.interpreter
                .as_deref()
                .is_some_and(|i| i.contains("ld-linux")),
            "{info:?}"
        );
        assert!(info.needed.iter().any(|n| n == "libc.so.6"), "{info:?}");
        let libc = info.version_needs.get("libc.so.6").unwrap();
        assert!(libc.iter().any(|v| v.starts_with("GLIBC_2.")), "{libc:?}");
        assert!(read(Path::new("/etc/hostname")).is_err() || !Path::new("/etc/hostname").exists());
    }

    #[test]
    fn glibc_versions_order_numerically() {
        let names: Vec<String> = ["GLIBC_2.2.5", "GLIBC_2.34", "GLIBC_2.9", "GLIBC_PRIVATE"]
            .map(String::from)
            .to_vec();
        assert_eq!(max_glibc(&names).as_deref(), Some("2.34"));
        assert_eq!(glibc_version("GLIBC_PRIVATE"), None);
        assert_eq!(glibc_version("GLIBC_2.2.5"), Some(vec![2, 2, 5]));
    }
}
