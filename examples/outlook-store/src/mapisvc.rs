//! The MAPISVC.INF text transform: adding and removing this provider's
//! message service. Pure functions over the file's bytes; [`crate::install`]
//! does the file I/O.
//!
//! [`merge`] puts one entry in `[Services]` and two sections at the end of
//! the file: the message service section and its one provider section,
//! between two marker comment lines (`; >>> MAPISYNC_EXAMPLE ...` and
//! `; <<< MAPISYNC_EXAMPLE`). What else Merge adds is recorded there too: a
//! `[Services]` section, for a file without one, goes between the markers,
//! and a line ending it gave the file's last line is named in the opening
//! marker. [`remove`] takes exactly those out again, so Merge then Remove
//! gives the file back byte for byte, and lines the user adds after the
//! closing marker stay. Both are idempotent, keep the file's line ending
//! (CRLF, LF, or CR) and its encoding, and leave every other byte as it
//! was. A section header may end with a `;` comment. MAPISVC.INF files come in three encodings, each kept:
//! - ANSI (Office's own files): bytes in the ANSI code page, not UTF-8, so
//!   the text is handled as bytes, never as `str`;
//! - UTF-8 with a byte order mark (EF BB BF): the mark stays first;
//! - UTF-16LE with a byte order mark (FF FE), as some editors and installers
//!   save it: the text is decoded, changed and encoded again, so what is
//!   added is UTF-16 too.
//!
//! A file these cannot read losslessly (UTF-16 big-endian, UTF-16 without a
//! byte order mark, seen as NUL bytes, or UTF-16 with an unpaired
//! surrogate) is an error with a message, and the caller leaves it
//! untouched.
//!
//! ```
//! use mapisync_outlook_store::mapisvc::{merge, remove};
//! let inf = b"[Services]\r\nMSPST MS=Personal Folders\r\n\r\n[MSPST MS]\r\nPR_DISPLAY_NAME=Personal Folders\r\n";
//! let merged = merge(inf, r"C:\Providers\mapisync_outlook_store.dll")?;
//! assert_eq!(merge(&merged, r"C:\Providers\mapisync_outlook_store.dll")?, merged);
//! assert_eq!(remove(&merged)?, inf);
//! # Ok::<(), String>(())
//! ```

/// The 16 bytes of the store's MAPIUID, written as `PR_MDB_PROVIDER` (the
/// provider registers the same bytes with `IMAPISupport::SetProviderUID`).
pub const STORE_UID_BYTES: [u8; 16] = *b"mapisync-example";

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
/// entries) for the DLL base name `provider_dll` (see [`mapi_base_name`]),
/// in the file's own encoding; an error for a file that cannot be read
/// losslessly (see the [module docs](self)).
pub fn merge(inf: &[u8], provider_dll: &str) -> Result<Vec<u8>, String> {
    let (encoding, text) = Encoding::decode(inf)?;
    Ok(encoding.encode(&merge_text(&text, provider_dll)))
}

/// `inf` without this provider's `[Services]` entry and sections, any other
/// byte unchanged; an error for a file that cannot be read losslessly.
pub fn remove(inf: &[u8]) -> Result<Vec<u8>, String> {
    let (encoding, text) = Encoding::decode(inf)?;
    Ok(encoding.encode(&remove_text(&text)))
}

/// How a MAPISVC.INF is stored (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Ansi,
    Utf8Bom,
    Utf16LeBom,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
const UTF16LE_BOM: &[u8] = b"\xFF\xFE";
const UTF16BE_BOM: &[u8] = b"\xFE\xFF";

impl Encoding {
    /// The file's encoding and its text without the byte order mark, as
    /// 8-bit text (UTF-16 decoded to UTF-8).
    fn decode(inf: &[u8]) -> Result<(Self, Vec<u8>), String> {
        if let Some(text) = inf.strip_prefix(UTF8_BOM) {
            return Ok((Self::Utf8Bom, text.to_vec()));
        }
        if inf.starts_with(UTF16BE_BOM) {
            return Err("MAPISVC.INF is UTF-16 big-endian, which MAPI does not read; left unchanged".to_owned());
        }
        let Some(text) = inf.strip_prefix(UTF16LE_BOM) else { return Self::ansi(inf) };
        if text.len() % 2 != 0 {
            return Err("MAPISVC.INF is UTF-16LE but has an odd number of bytes; left unchanged".to_owned());
        }
        let units = text.chunks_exact(2).map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
        let decoded: Result<String, _> = char::decode_utf16(units).collect();
        let decoded = decoded.map_err(|e| {
            format!(
                "MAPISVC.INF is UTF-16LE but has an unpaired surrogate ({:#06x}); left unchanged",
                e.unpaired_surrogate()
            )
        })?;
        Ok((Self::Utf16LeBom, decoded.into_bytes()))
    }

    /// An "ANSI" file, refused when it has NUL bytes: that is UTF-16 (LE or
    /// BE) without a byte order mark, which 8-bit lines would corrupt.
    fn ansi(inf: &[u8]) -> Result<(Self, Vec<u8>), String> {
        if inf.contains(&0) {
            return Err("MAPISVC.INF has NUL bytes: UTF-16 without a byte order mark? Save it as ANSI or as \
                        UTF-16LE with a byte order mark; left unchanged"
                .to_owned());
        }
        Ok((Self::Ansi, inf.to_vec()))
    }

    /// `text` (8-bit, as [`Encoding::decode`] gave it) stored this way again.
    fn encode(self, text: &[u8]) -> Vec<u8> {
        match self {
            Self::Ansi => text.to_vec(),
            Self::Utf8Bom => [UTF8_BOM, text].concat(),
            Self::Utf16LeBom => {
                // Decoded from UTF-16 and changed only by ASCII lines and UTF-8 `str`s.
                let text = String::from_utf8_lossy(text);
                UTF16LE_BOM.iter().copied().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect()
            }
        }
    }
}

/// The comment line that opens what [`merge`] appends; [`remove`] takes
/// out everything from it to [`END_MARKER`].
const BEGIN_MARKER: &str = "; >>> MAPISYNC_EXAMPLE: added by its Merge, taken out by its Remove";
/// [`BEGIN_MARKER`] when Merge also ended the file's last line (the file
/// had no final line ending): Remove takes that line ending out too.
const BEGIN_MARKER_EOL: &str =
    "; >>> MAPISYNC_EXAMPLE: added by its Merge, taken out by its Remove (with the line ending above)";
/// The comment line that closes what [`merge`] appends: lines after it are
/// the user's, kept by [`remove`].
const END_MARKER: &str = "; <<< MAPISYNC_EXAMPLE";

/// [`merge`] on 8-bit text.
fn merge_text(inf: &[u8], provider_dll: &str) -> Vec<u8> {
    let eol = line_ending(inf);
    let removed = remove_text(inf);
    let added_eol = !removed.is_empty() && !removed.ends_with(b"\n") && !removed.ends_with(b"\r");
    let base = with_final_eol(removed, eol);
    let service_entry = format!("{SERVICE_SECTION}={DISPLAY_NAME}");
    let mut block = vec![if added_eol { BEGIN_MARKER_EOL } else { BEGIN_MARKER }.to_owned()];
    let mut out = match services_insertion_point(&base) {
        Some(at) => [&base[..at], service_entry.as_bytes(), eol, &base[at..]].concat(),
        None => {
            block.extend(["[Services]".to_owned(), service_entry, String::new()]);
            base
        }
    };
    block.extend(our_sections(provider_dll));
    block.push(END_MARKER.to_owned());
    for line in block {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(eol);
    }
    out
}

/// [`remove`] on 8-bit text: what lies between the markers, and (from a
/// merge that wrote no markers) our sections and `[Services]` entry.
fn remove_text(inf: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(inf.len());
    let mut section: Option<&[u8]> = None;
    let mut in_block = false;
    for line in lines(inf) {
        let comment = line.trim_ascii();
        if comment == BEGIN_MARKER.as_bytes() || comment == BEGIN_MARKER_EOL.as_bytes() {
            if comment == BEGIN_MARKER_EOL.as_bytes() {
                strip_final_eol(&mut out);
            }
            in_block = true;
            continue;
        }
        if comment == END_MARKER.as_bytes() {
            (in_block, section) = (false, None);
            continue;
        }
        if in_block {
            continue;
        }
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

/// Takes off `text`'s final line ending (CRLF, LF or CR), if it has one.
fn strip_final_eol(text: &mut Vec<u8>) {
    if text.ends_with(b"\n") {
        text.pop();
    }
    if text.ends_with(b"\r") {
        text.pop();
    }
}

/// The lines of `inf`, each with its line ending: CRLF, LF, or a CR not
/// followed by LF (classic Mac files).
fn lines(inf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = inf;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(at) if rest[at] == b'\r' && rest.get(at + 1) == Some(&b'\n') => at + 2,
            Some(at) => at + 1,
            None => rest.len(),
        };
        let (line, tail) = rest.split_at(end);
        rest = tail;
        Some(line)
    })
}

/// The lines of the two sections, each section followed by a blank line.
fn our_sections(dll: &str) -> Vec<String> {
    let uid: String = STORE_UID_BYTES.iter().map(|b| format!("{b:02x}")).collect();
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
    for line in lines(inf) {
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

/// CRLF unless the file already uses bare LF (or, with no LF at all, bare
/// CR) line endings.
fn line_ending(inf: &[u8]) -> &'static [u8] {
    if inf.windows(2).any(|w| w == b"\r\n") {
        b"\r\n"
    } else if inf.contains(&b'\n') {
        b"\n"
    } else if inf.contains(&b'\r') {
        b"\r"
    } else {
        b"\r\n"
    }
}

/// `text`, ending with a line ending unless it is empty.
fn with_final_eol(mut text: Vec<u8>, eol: &[u8]) -> Vec<u8> {
    if !text.is_empty() && !text.ends_with(b"\n") && !text.ends_with(b"\r") {
        text.extend_from_slice(eol);
    }
    text
}

/// The name inside `[...]` when `line` is a section header, which may end
/// with a `;` comment (`[Services] ; the services`).
fn section_name(line: &[u8]) -> Option<&[u8]> {
    let inside = line.trim_ascii().strip_prefix(b"[")?;
    let close = inside.iter().position(|&b| b == b']')?;
    let after = inside[close + 1..].trim_ascii();
    (after.is_empty() || after.starts_with(b";")).then(|| inside[..close].trim_ascii())
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
        let merged = text(&merge(INF, DLL).unwrap());
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
        let merged = merge(INF, DLL).unwrap();
        // Everything before the new [Services] entry and after it, up to the
        // appended sections, is the original file byte for byte.
        let entry = b"MAPISYNC_EXAMPLE=mapisync example store\r\n";
        let at = merged.windows(entry.len()).position(|w| w == entry).expect("the entry is there");
        assert_eq!(&merged[..at], &INF[..at]);
        assert_eq!(&merged[at + entry.len()..at + entry.len() + INF.len() - at], &INF[at..]);
        assert_eq!(remove(&merged).unwrap(), INF);
    }

    #[test]
    fn merge_and_remove_are_idempotent() {
        let once = merge(INF, DLL).unwrap();
        assert_eq!(merge(&once, DLL).unwrap(), once);
        assert_eq!(remove(&remove(&once).unwrap()).unwrap(), INF);
        assert_eq!(remove(INF).unwrap(), INF);
    }

    #[test]
    fn merge_replaces_an_earlier_merge_with_another_dll_in_place_of_duplicating_it() {
        let old = merge(INF, r"D:\old\mapisync_outlook_store.dll").unwrap();
        let new = merge(&old, DLL).unwrap();
        assert_eq!(new, merge(INF, DLL).unwrap());
        assert!(!text(&new).contains(r"D:\old"));
    }

    #[test]
    fn names_match_without_regard_to_case() {
        let inf = b"[services]\r\nmapisync_example=old\r\n\r\n[mapisync_example]\r\nPR_X=1\r\n\r\n[Other]\r\nA=1\r\n";
        assert_eq!(remove(inf).unwrap(), b"[services]\r\n\r\n[Other]\r\nA=1\r\n");
    }

    #[test]
    fn a_file_without_services_gets_the_section() {
        let merged = text(&merge(b"[Other]\r\nA=1", DLL).unwrap());
        assert!(merged.starts_with(&format!(
            "[Other]\r\nA=1\r\n{BEGIN_MARKER_EOL}\r\n[Services]\r\nMAPISYNC_EXAMPLE=mapisync example store\r\n\r\n[MAPISYNC_EXAMPLE]\r\n"
        )));
        assert_eq!(merge(merged.as_bytes(), DLL).unwrap(), merged.as_bytes());
        assert_eq!(text(&merge(b"", DLL).unwrap()).lines().nth(1), Some("[Services]"));
    }

    /// UTF-16LE with a byte order mark: the service is added as UTF-16
    /// (not as ASCII bytes in the middle of UTF-16 text, which MAPI cannot
    /// see), and remove gives back the file byte for byte.
    #[test]
    fn a_utf16le_file_stays_utf16le_and_is_restored_byte_for_byte() {
        let ansi = String::from_utf8_lossy(INF).replace('\u{fffd}', "\u{e9}");
        let utf16: Vec<u8> =
            b"\xFF\xFE".iter().copied().chain(ansi.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let merged = merge(&utf16, DLL).unwrap();
        assert!(merged.starts_with(b"\xFF\xFE") && merged.len() % 2 == 0);
        let units: Vec<u16> = merged[2..].chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]])).collect();
        let decoded = String::from_utf16(&units).expect("the merged file is UTF-16 throughout");
        assert!(decoded.contains("CONTAB=Contacts\r\nMAPISYNC_EXAMPLE=mapisync example store\r\n"), "{decoded}");
        assert!(decoded.contains(&format!("PR_PROVIDER_DLL_NAME={DLL}\r\n")));
        assert!(decoded.contains("Dossiers personnels (caf\u{e9})"));
        assert_eq!(merge(&merged, DLL).unwrap(), merged);
        assert_eq!(remove(&merged).unwrap(), utf16);
    }

    /// UTF-8 with a byte order mark: `[Services]` on the first line is
    /// found (not a second `[Services]` section), and the mark stays first.
    #[test]
    fn a_utf8_file_with_a_bom_gets_one_services_section() {
        let file =
            [b"\xEF\xBB\xBF".as_slice(), b"[Services]\r\nMSPST MS=Personal Folders\r\n\r\n[MSPST MS]\r\nA=1\r\n"]
                .concat();
        let merged = merge(&file, DLL).unwrap();
        assert!(merged.starts_with(b"\xEF\xBB\xBF[Services]\r\nMSPST MS=Personal Folders\r\nMAPISYNC_EXAMPLE="));
        assert_eq!(text(&merged).matches("[Services]").count(), 1);
        assert_eq!(remove(&merged).unwrap(), file);
    }

    /// What cannot be read losslessly is refused, so the caller leaves the file alone.
    #[test]
    fn big_endian_and_broken_utf16_are_refused_with_a_message() {
        assert!(merge(b"\xFE\xFF\0[", DLL).unwrap_err().contains("big-endian"));
        assert!(merge(b"\xFF\xFE[\0\x00\xD8]\0", DLL).unwrap_err().contains("unpaired surrogate"));
        assert!(remove(b"\xFF\xFE[\0S").unwrap_err().contains("odd number of bytes"));
    }

    #[test]
    fn a_file_with_lf_line_endings_keeps_them() {
        let merged = merge(b"[Services]\nA=B\n", DLL).unwrap();
        assert!(!merged.contains(&b'\r'));
        assert_eq!(remove(&merged).unwrap(), b"[Services]\nA=B\n");
    }

    const OFFICE: &str = "[Services]\r\nMSPST MS=Personal Folders\r\n\r\n[MSPST MS]\r\nProviders=MSPST MSP\r\n";

    /// Issue 18 item 4: Merge then Remove gives the user's file back byte for byte.
    fn assert_round_trip(original: &[u8]) {
        let merged = merge(original, DLL).unwrap();
        assert_eq!(text(&remove(&merged).unwrap()), text(original), "merged: {:?}", text(&merged));
        assert_eq!(merge(&merged, DLL).unwrap(), merged, "a second merge changed the file");
    }

    #[test]
    fn a_file_ending_without_a_newline_is_restored_byte_for_byte() {
        assert_round_trip(b"[Services]\r\nMSPST MS=Personal Folders");
        assert_round_trip(b"[Services]\nMSPST MS=Personal Folders\n\n[Other]\nA=1");
    }

    #[test]
    fn a_file_without_services_is_restored_byte_for_byte() {
        assert_round_trip(b"[Other]\r\nA=1\r\n");
        assert_round_trip(b"[Other]\r\nA=1");
    }

    #[test]
    fn an_empty_file_is_restored_byte_for_byte() {
        assert_round_trip(b"");
        assert!(text(&merge(b"", DLL).unwrap()).contains("[Services]\r\nMAPISYNC_EXAMPLE="));
    }

    /// UTF-16 without a byte order mark would get 8-bit lines in its text:
    /// refused, so the caller leaves the file alone.
    #[test]
    fn utf16_without_a_bom_is_refused_with_a_message() {
        let le: Vec<u8> = OFFICE.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = OFFICE.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for file in [le, be] {
            assert!(merge(&file, DLL).unwrap_err().contains("UTF-16 without a byte order mark"));
            assert!(remove(&file).unwrap_err().contains("NUL bytes"));
        }
    }

    #[test]
    fn a_services_header_with_a_trailing_comment_gets_no_second_section() {
        let file = b"[Services] ; the services\r\nMSPST MS=Personal Folders\r\n";
        let merged = text(&merge(file, DLL).unwrap());
        assert_eq!(merged.matches("[Services]").count(), 1, "{merged:?}");
        assert!(merged.starts_with("[Services] ; the services\r\nMSPST MS=Personal Folders\r\nMAPISYNC_EXAMPLE="));
        assert_round_trip(file);
    }

    #[test]
    fn a_file_with_cr_only_line_endings_gets_no_second_section_and_keeps_them() {
        let file = b"[Services]\rMSPST MS=Personal Folders\r\r[MSPST MS]\rA=1\r";
        let merged = text(&merge(file, DLL).unwrap());
        assert_eq!(merged.matches("[Services]").count(), 1, "{merged:?}");
        assert!(!merged.contains('\n'), "{merged:?}");
        assert!(merged.starts_with("[Services]\rMSPST MS=Personal Folders\rMAPISYNC_EXAMPLE="));
        assert_round_trip(file);
    }

    /// Our block ends at its end marker: what the user adds after it stays.
    #[test]
    fn remove_keeps_what_the_user_appended_after_merge() {
        let mut edited = merge(OFFICE.as_bytes(), DLL).unwrap();
        edited.extend_from_slice(b"; my own note, added by hand\r\n[Mine]\r\nK=V\r\n");
        let expected = [OFFICE.as_bytes(), b"; my own note, added by hand\r\n[Mine]\r\nK=V\r\n"].concat();
        assert_eq!(text(&remove(&edited).unwrap()), text(&expected));
    }

    /// A file an earlier version merged into (no markers) is still cleaned.
    #[test]
    fn a_merge_without_markers_is_still_removed() {
        let old =
            [OFFICE.as_bytes(), b"\r\n[MAPISYNC_EXAMPLE]\r\nA=1\r\n\r\n[MAPISYNC_EXAMPLE_STORE]\r\nB=2\r\n"].concat();
        let old = [
            &old[..OFFICE.find("\r\n\r\n").unwrap() + 2],
            b"MAPISYNC_EXAMPLE=x\r\n",
            &old[OFFICE.find("\r\n\r\n").unwrap() + 2..],
        ]
        .concat();
        assert_eq!(text(&remove(&old).unwrap()), text(&[OFFICE.as_bytes(), b"\r\n"].concat()));
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
