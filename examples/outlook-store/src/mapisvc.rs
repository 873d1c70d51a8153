//! The MAPISVC.INF text transform: adding and removing this provider's
//! message service. Pure functions over the file's bytes (MAPISVC.INF is
//! ANSI text, so bytes, not `str`); [`crate::install`] does the file I/O.
//!
//! [`merge`] puts one entry in `[Services]` and two sections at the end of
//! the file: the message service section and its one provider section.
//! [`remove`] takes exactly those out again. Both are idempotent, keep the
//! file's line ending (CRLF or LF), and leave every other byte as it was.
//!
//! ```
//! use mapisync_outlook_store::mapisvc::{merge, remove};
//! let inf = b"[Services]\r\nMSPST MS=Personal Folders\r\n\r\n[MSPST MS]\r\nPR_DISPLAY_NAME=Personal Folders\r\n";
//! let merged = merge(inf, r"C:\Providers\mapisync_outlook_store.dll");
//! assert_eq!(merge(&merged, r"C:\Providers\mapisync_outlook_store.dll"), merged);
//! assert_eq!(remove(&merged), inf);
//! ```

use crate::provider::STORE_UID;

/// The message service's section name, and its key in `[Services]`.
pub const SERVICE_SECTION: &str = "MAPISYNC_EXAMPLE";
/// The store provider's section name (listed in the service's `Providers`).
pub const PROVIDER_SECTION: &str = "MAPISYNC_EXAMPLE_STORE";
/// The name Outlook shows for the service and the store.
pub const DISPLAY_NAME: &str = "mapisync example store";

/// The file MAPI loads for a `PR_PROVIDER_DLL_NAME` (or
/// `PR_SERVICE_DLL_NAME`) value: "32" inserted before the first period of
/// the whole string (`myprov.dll` → `myprov32.dll`; without a period, at
/// the end), on 32- and 64-bit Outlook alike. Outlook 2010 and later
/// accept a full path there, but the insertion still happens at the first
/// period of the string, directories included.
pub fn mapi_load_name(value: &str) -> String {
    let at = value.find('.').unwrap_or(value.len());
    format!("{}32{}", &value[..at], &value[at..])
}

/// The inverse of [`mapi_load_name`]: the value to write in MAPISVC.INF
/// for a DLL file, or None when no value would make MAPI load that file:
/// the path must contain exactly one period, right after a file name that
/// ends in "32" (and is more than "32").
pub fn mapi_base_name(file: &str) -> Option<String> {
    let dot = file.find('.')?;
    if file[dot + 1..].contains('.') {
        return None;
    }
    let stem = &file[file[..dot].rfind(['\\', '/']).map_or(0, |slash| slash + 1)..dot];
    (stem.len() > 2 && stem.ends_with("32")).then(|| format!("{}{}", &file[..dot - 2], &file[dot..]))
}

/// `inf` with this provider's service added (or replaced by the current
/// entries) for the DLL base name `provider_dll` (see [`mapi_base_name`]).
pub fn merge(inf: &[u8], provider_dll: &str) -> Vec<u8> {
    let eol = line_ending(inf);
    let base = with_final_eol(remove(inf), eol);
    let service_entry = format!("{SERVICE_SECTION}={DISPLAY_NAME}");
    let mut out = match services_insertion_point(&base) {
        Some(at) => [&base[..at], service_entry.as_bytes(), eol, &base[at..]].concat(),
        None => {
            let mut text = base;
            text.extend_from_slice(b"[Services]");
            text.extend_from_slice(eol);
            text.extend_from_slice(service_entry.as_bytes());
            text.extend_from_slice(eol);
            text.extend_from_slice(eol);
            text
        }
    };
    for line in our_sections(provider_dll) {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(eol);
    }
    out
}

/// `inf` without this provider's `[Services]` entry and sections; any
/// other byte unchanged.
pub fn remove(inf: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(inf.len());
    let mut section: Option<&[u8]> = None;
    for line in inf.split_inclusive(|&b| b == b'\n') {
        if let Some(name) = section_name(line) {
            section = Some(name);
        }
        let ours = section.is_some_and(|name| is(name, SERVICE_SECTION) || is(name, PROVIDER_SECTION));
        let our_entry =
            section.is_some_and(|name| is(name, "Services")) && key(line).is_some_and(|k| is(k, SERVICE_SECTION));
        if !ours && !our_entry {
            out.extend_from_slice(line);
        }
    }
    out
}

/// The lines of the two sections, each section followed by a blank line.
fn our_sections(dll: &str) -> Vec<String> {
    let uid: String = STORE_UID.ab.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        format!("[{SERVICE_SECTION}]"),
        format!("PR_DISPLAY_NAME={DISPLAY_NAME}"),
        format!("Providers={PROVIDER_SECTION}"),
        format!("PR_SERVICE_DLL_NAME={dll}"),
        "PR_RESOURCE_FLAGS=SERVICE_NO_PRIMARY_IDENTITY".to_owned(),
        String::new(),
        format!("[{PROVIDER_SECTION}]"),
        format!("PR_DISPLAY_NAME={DISPLAY_NAME}"),
        format!("PR_PROVIDER_DISPLAY={DISPLAY_NAME}"),
        format!("PR_PROVIDER_DLL_NAME={dll}"),
        "PR_RESOURCE_TYPE=MAPI_STORE_PROVIDER".to_owned(),
        "PR_RESOURCE_FLAGS=STATUS_NO_DEFAULT_STORE".to_owned(),
        format!("PR_MDB_PROVIDER={uid}"),
        String::new(),
    ]
}

/// Where a new `[Services]` entry goes: after the section's last non-blank
/// line (so the blank lines that separate it from the next stay after it).
fn services_insertion_point(inf: &[u8]) -> Option<usize> {
    let mut offset = 0;
    let mut in_services = false;
    let mut insert_at = None;
    for line in inf.split_inclusive(|&b| b == b'\n') {
        if let Some(name) = section_name(line) {
            in_services = is(name, "Services");
        }
        offset += line.len();
        if in_services && !line.trim_ascii().is_empty() {
            insert_at = Some(offset);
        }
    }
    insert_at
}

/// CRLF unless the file already uses bare LF line endings.
fn line_ending(inf: &[u8]) -> &'static [u8] {
    if inf.contains(&b'\n') && !inf.windows(2).any(|w| w == b"\r\n") { b"\n" } else { b"\r\n" }
}

/// `text`, ending with a line ending unless it is empty.
fn with_final_eol(mut text: Vec<u8>, eol: &[u8]) -> Vec<u8> {
    if !text.is_empty() && !text.ends_with(b"\n") {
        text.extend_from_slice(eol);
    }
    text
}

/// The name inside `[...]` when `line` is a section header.
fn section_name(line: &[u8]) -> Option<&[u8]> {
    let line = line.trim_ascii();
    line.strip_prefix(b"[")?.strip_suffix(b"]").map(<[u8]>::trim_ascii)
}

/// The key of a `key=value` line.
fn key(line: &[u8]) -> Option<&[u8]> {
    let eq = line.iter().position(|&b| b == b'=')?;
    Some(line[..eq].trim_ascii())
}

/// INF names compare without regard to ASCII case.
fn is(name: &[u8], expected: &str) -> bool {
    name.eq_ignore_ascii_case(expected.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DLL: &str = r"C:\Providers\mapisync_outlook_store.dll";

    /// A MAPISVC.INF in the shape Office ships, CRLF, with a non-UTF-8
    /// byte (0xE9, "é" in Windows-1252) in another service's section.
    const INF: &[u8] = b"[Services]\r\nMSPST MS=Personal Folders\r\nCONTAB=Contacts\r\n\r\n\
[Default Services]\r\nMSPST MS=Personal Folders\r\n\r\n\
[MSPST MS]\r\nPR_DISPLAY_NAME=Dossiers personnels (caf\xe9)\r\nProviders=MSPST MSP\r\n\r\n\
[MSPST MSP]\r\nPR_PROVIDER_DLL_NAME=mspst.dll\r\nPR_RESOURCE_TYPE=MAPI_STORE_PROVIDER\r\n";

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    #[test]
    fn merge_adds_the_service_entry_and_both_sections() {
        let merged = text(&merge(INF, DLL));
        assert!(
            merged.contains("CONTAB=Contacts\r\nMAPISYNC_EXAMPLE=mapisync example store\r\n\r\n[Default Services]")
        );
        assert!(merged.contains(
            "[MAPISYNC_EXAMPLE]\r\nPR_DISPLAY_NAME=mapisync example store\r\nProviders=MAPISYNC_EXAMPLE_STORE\r\n"
        ));
        assert!(merged.contains(&format!("PR_SERVICE_DLL_NAME={DLL}\r\n")));
        assert!(merged.contains("[MAPISYNC_EXAMPLE_STORE]\r\n"));
        assert!(merged.contains(&format!("PR_PROVIDER_DLL_NAME={DLL}\r\nPR_RESOURCE_TYPE=MAPI_STORE_PROVIDER\r\n")));
        assert!(merged.contains("PR_MDB_PROVIDER=6d61706973796e632d6578616d706c65\r\n"));
        assert_eq!(merged.matches("MAPISYNC_EXAMPLE=").count(), 1);
    }

    #[test]
    fn merge_keeps_every_other_byte() {
        let merged = merge(INF, DLL);
        // Everything before the new [Services] entry and after it, up to the
        // appended sections, is the original file byte for byte.
        let entry = b"MAPISYNC_EXAMPLE=mapisync example store\r\n";
        let at = merged.windows(entry.len()).position(|w| w == entry).expect("the entry is there");
        assert_eq!(&merged[..at], &INF[..at]);
        assert_eq!(&merged[at + entry.len()..at + entry.len() + INF.len() - at], &INF[at..]);
        assert_eq!(remove(&merged), INF);
    }

    #[test]
    fn merge_and_remove_are_idempotent() {
        let once = merge(INF, DLL);
        assert_eq!(merge(&once, DLL), once);
        assert_eq!(remove(&remove(&once)), INF);
        assert_eq!(remove(INF), INF);
    }

    #[test]
    fn merge_replaces_an_earlier_merge_with_another_dll_in_place_of_duplicating_it() {
        let old = merge(INF, r"D:\old\mapisync_outlook_store.dll");
        let new = merge(&old, DLL);
        assert_eq!(new, merge(INF, DLL));
        assert!(!text(&new).contains(r"D:\old"));
    }

    #[test]
    fn names_match_without_regard_to_case() {
        let inf = b"[services]\r\nmapisync_example=old\r\n\r\n[mapisync_example]\r\nPR_X=1\r\n\r\n[Other]\r\nA=1\r\n";
        assert_eq!(remove(inf), b"[services]\r\n\r\n[Other]\r\nA=1\r\n");
    }

    #[test]
    fn a_file_without_services_gets_the_section() {
        let merged = text(&merge(b"[Other]\r\nA=1", DLL));
        assert!(merged.starts_with(
            "[Other]\r\nA=1\r\n[Services]\r\nMAPISYNC_EXAMPLE=mapisync example store\r\n\r\n[MAPISYNC_EXAMPLE]\r\n"
        ));
        assert_eq!(merge(merged.as_bytes(), DLL), merged.as_bytes());
        assert_eq!(text(&merge(b"", DLL)).lines().next(), Some("[Services]"));
    }

    #[test]
    fn a_file_with_lf_line_endings_keeps_them() {
        let merged = merge(b"[Services]\nA=B\n", DLL);
        assert!(!merged.contains(&b'\r'));
        assert_eq!(remove(&merged), b"[Services]\nA=B\n");
    }

    /// Outlook's MAPI inserts "32" before the first period of the whole
    /// string, so a path with another period cannot name the DLL.
    #[test]
    fn the_32_goes_before_the_first_period_of_the_whole_path() {
        assert_eq!(mapi_load_name(r"C:\x.y\my.prov.dll"), r"C:\x32.y\my.prov.dll");
        assert_eq!(mapi_base_name(r"C:\x.y\store32.dll"), None);
        assert_eq!(mapi_base_name("my32.prov.dll"), None);
        assert_eq!(
            mapi_base_name(r"C:\Program Files (x86)\p\store32.dll").as_deref(),
            Some(r"C:\Program Files (x86)\p\store.dll")
        );
    }

    #[test]
    fn mapi_inserts_32_before_the_first_period() {
        assert_eq!(mapi_load_name("myprov.dll"), "myprov32.dll");
        assert_eq!(mapi_load_name(r"C:\Providers\myprov.dll"), r"C:\Providers\myprov32.dll");
        assert_eq!(mapi_load_name("noextension"), "noextension32");
    }

    #[test]
    fn the_base_name_is_the_file_name_without_its_32() {
        assert_eq!(mapi_base_name(r"C:\Providers\store32.dll").as_deref(), Some(r"C:\Providers\store.dll"));
        assert_eq!(mapi_base_name("store32.dll").as_deref(), Some("store.dll"));
        assert_eq!(mapi_base_name("store.dll"), None);
        assert_eq!(mapi_base_name(r"C:\p\32.dll"), None);
        assert_eq!(mapi_base_name("store32"), None);
        let file = r"C:\p\mapisync_outlook_store32.dll";
        assert_eq!(mapi_load_name(&mapi_base_name(file).unwrap()), file);
    }
}
