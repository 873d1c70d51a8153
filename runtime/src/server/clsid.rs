//! CLSID text: parsing `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}` at compile
//! time, and writing a GUID the way the registry names its keys.

use windows_core::GUID;

/// Parses a CLSID written as `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}` (the
/// braces are optional, hex digits of either case). Panics on anything
/// else, which in a `static` or `const` is a compile error.
///
/// ```
/// use mapisync::server::clsid;
/// assert_eq!(clsid("{00000001-0000-0000-C000-000000000046}"), mapisync::abi::IID_IClassFactory);
/// ```
pub const fn clsid(text: &str) -> GUID {
    let bytes = text.as_bytes();
    let (start, len) = match bytes.len() {
        38 if bytes[0] == b'{' && bytes[37] == b'}' => (1, 36),
        36 => (0, 36),
        _ => panic!("a CLSID is 32 hex digits grouped 8-4-4-4-12, optionally in braces"),
    };
    let mut value: u128 = 0;
    let mut i = 0;
    while i < len {
        let byte = bytes[start + i];
        if i == 8 || i == 13 || i == 18 || i == 23 {
            assert!(byte == b'-', "a CLSID has dashes after 8, 12, 16 and 20 hex digits");
        } else {
            let digit = match byte {
                b'0'..=b'9' => byte - b'0',
                b'a'..=b'f' => byte - b'a' + 10,
                b'A'..=b'F' => byte - b'A' + 10,
                _ => panic!("a CLSID has only hex digits between its dashes"),
            };
            value = value << 4 | digit as u128;
        }
        i += 1;
    }
    GUID::from_u128(value)
}

/// Formats a GUID the way the registry writes it: `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`.
///
/// ```
/// use mapisync::server::{clsid, registry_name};
/// let text = "{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}";
/// assert_eq!(registry_name(&clsid(text)), text);
/// ```
pub fn registry_name(guid: &GUID) -> String {
    let d4 = guid.data4;
    format!(
        "{{{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}}}",
        guid.data1, guid.data2, guid.data3, d4[0], d4[1], d4[2], d4[3], d4[4], d4[5], d4[6], d4[7]
    )
}
