//! The Windows-only facts behind [`super::system::RealSystem`]: the process
//! token's elevation and registry reads. Thin calls into the OS; what the
//! answers mean is decided by the gatherers, which are tested with
//! [`super::system::FakeSystem`].

use windows::Win32::Foundation::{CloseHandle, ERROR_SUCCESS, HANDLE};
use windows::Win32::Security::{GetTokenInformation, TOKEN_ELEVATION, TOKEN_QUERY, TokenElevation};
use windows::Win32::System::Registry::{
    HKEY, HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, KEY_READ, RRF_RT_REG_EXPAND_SZ, RRF_RT_REG_SZ,
    RegCloseKey, RegEnumKeyExW, RegGetValueW, RegOpenKeyExW,
};
use windows::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};
use windows::core::{PCWSTR, PWSTR};

/// Most subkeys listed, most UTF-16 units read from one value.
const MAX_SUBKEYS: u32 = 4096;
const MAX_VALUE_UNITS: usize = 32 * 1024;

/// Whether this process runs elevated (TokenElevation of its own token).
pub fn token_elevated() -> Option<bool> {
    // SAFETY: the token handle is ours and closed; the output buffer is a
    // TOKEN_ELEVATION of the size passed.
    unsafe {
        let mut token = HANDLE::default();
        OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token).ok()?;
        let mut elevation = TOKEN_ELEVATION::default();
        let mut len = 0u32;
        let got = GetTokenInformation(
            token,
            TokenElevation,
            Some(std::ptr::from_mut(&mut elevation).cast()),
            size_of::<TOKEN_ELEVATION>() as u32,
            &mut len,
        );
        let _ = CloseHandle(token);
        got.ok()?;
        Some(elevation.TokenIsElevated != 0)
    }
}

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// Splits `HKLM\Sub\Key` into its root and the rest.
fn split_root(key: &str) -> Option<(HKEY, &str)> {
    let (root, rest) = key.split_once('\\').unwrap_or((key, ""));
    let root = match root.to_ascii_uppercase().as_str() {
        "HKLM" | "HKEY_LOCAL_MACHINE" => HKEY_LOCAL_MACHINE,
        "HKCU" | "HKEY_CURRENT_USER" => HKEY_CURRENT_USER,
        _ => return None,
    };
    Some((root, rest))
}

/// A string value (REG_SZ or REG_EXPAND_SZ, expanded) of `key`.
pub fn registry_value(key: &str, name: &str) -> Option<String> {
    let (root, sub) = split_root(key)?;
    let sub = wide(sub);
    let name = wide(name);
    let mut buf = vec![0u16; 1024];
    loop {
        let mut bytes = (buf.len() * 2) as u32;
        // SAFETY: the buffer holds `bytes` bytes; the strings are NUL-terminated.
        let status = unsafe {
            RegGetValueW(
                root,
                PCWSTR(sub.as_ptr()),
                PCWSTR(name.as_ptr()),
                RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ,
                None,
                Some(buf.as_mut_ptr().cast()),
                Some(std::ptr::from_mut(&mut bytes)),
            )
        };
        if status == ERROR_SUCCESS {
            let units = (bytes as usize / 2).min(buf.len());
            let s = String::from_utf16_lossy(&buf[..units]);
            return Some(s.trim_end_matches('\0').to_string());
        }
        // ERROR_MORE_DATA: grow once within the bound, else give up.
        let wanted = bytes as usize / 2 + 1;
        if status.0 != 234 || wanted > MAX_VALUE_UNITS || wanted <= buf.len() {
            return None;
        }
        buf.resize(wanted, 0);
    }
}

/// The subkey names of `key`, sorted.
pub fn registry_subkeys(key: &str) -> Vec<String> {
    let Some((root, sub)) = split_root(key) else {
        return Vec::new();
    };
    let sub = wide(sub);
    let mut handle = HKEY::default();
    // SAFETY: opened for reading and closed below.
    if unsafe { RegOpenKeyExW(root, PCWSTR(sub.as_ptr()), None, KEY_READ, &mut handle) }
        != ERROR_SUCCESS
    {
        return Vec::new();
    }
    let mut names = Vec::new();
    let mut buf = [0u16; 256];
    for index in 0..MAX_SUBKEYS {
        let mut len = buf.len() as u32;
        // SAFETY: `buf` holds `len` units; the key is open.
        let status = unsafe {
            RegEnumKeyExW(
                handle,
                index,
                Some(PWSTR(buf.as_mut_ptr())),
                &mut len,
                None,
                None,
                None,
                None,
            )
        };
        if status != ERROR_SUCCESS {
            break;
        }
        names.push(String::from_utf16_lossy(&buf[..len as usize]));
    }
    // SAFETY: opened above.
    unsafe {
        let _ = RegCloseKey(handle);
    }
    names.sort();
    names
}
