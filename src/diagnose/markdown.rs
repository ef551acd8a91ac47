//! The Markdown form of a [`Report`] for a help-desk ticket: labels in the
//! report's language (`text.toml`, table `report`), findings with their fix
//! on a line of its own (so lists render), guide pages by title, and the
//! facts about each key.

use crate::content::text::Texts;

use super::keys::{KeyFacts, PinState, Protocol};
use super::report::{Report, exit_key};

impl Report {
    /// Markdown for pasting into a help-desk ticket, labels in the report's language.
    pub fn to_markdown(&self) -> String {
        let t = &self.labels;
        let l = |k: &str| t.get(k);
        let mut md = String::new();
        md.push_str(&format!(
            "# {} ({} {})\n\n",
            l("report.title"),
            self.generated_by.name,
            self.generated_by.version
        ));
        let s = &self.summary;
        md.push_str(&format!(
            "**{}:** FAIL {} · WARN {} · INFO {} · OK {}  \n**{}:** {} ({})\n\n",
            l("report.summary"),
            s.fail,
            s.warn,
            s.info,
            s.ok,
            l("report.exit_code"),
            self.exit_code,
            l(exit_key(self.exit_code)),
        ));

        md.push_str(&format!("## {}\n\n", l("report.computer")));
        let os = &self.environment.os;
        let mut os_line = os.family.display_name().to_string();
        let extra: Vec<&str> = [
            os.name.as_deref(),
            os.version.as_deref(),
            os.arch.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !extra.is_empty() {
            os_line.push_str(&format!(" ({})", extra.join(", ")));
        }
        md.push_str(&format!("- OS: {os_line}\n"));
        let ses = &self.environment.session;
        let mut kinds: Vec<String> = Vec::new();
        if ses.ssh {
            kinds.push("SSH".into());
        }
        if ses.rdp {
            kinds.push("Remote Desktop".into());
        }
        if ses.wsl {
            kinds.push("WSL".into());
        }
        if ses.container {
            kinds.push(l("report.container"));
        }
        if let Some(vm) = &ses.vm {
            kinds.push(format!("VM ({vm})"));
        }
        if kinds.is_empty() {
            kinds.push(l("report.local"));
        }
        md.push_str(&format!(
            "- {}: {}\n",
            l("report.session"),
            kinds.join(", ")
        ));
        let browsers: Vec<String> = self
            .environment
            .browsers
            .iter()
            .map(|b| {
                let mut s = b.name.clone();
                if let Some(v) = &b.version {
                    s.push(' ');
                    s.push_str(v);
                }
                if b.packaging.is_sandboxed() {
                    s.push_str(&format!(" ({})", b.packaging.display_name()));
                }
                s
            })
            .collect();
        md.push_str(&format!(
            "- {}: {}\n",
            l("report.browsers"),
            if browsers.is_empty() {
                l("report.none_found")
            } else {
                browsers.join(", ")
            }
        ));
        let hid = &self.environment.hid;
        if hid.hidraw_total > 0 {
            md.push_str(&format!(
                "- hidraw: {} / FIDO {} / {} {}\n",
                hid.hidraw_total,
                hid.hidraw_fido,
                l("report.not_accessible"),
                hid.hidraw_fido_unreadable.len()
            ));
        }
        if let Some(e) = hid.windows_elevated {
            md.push_str(&format!(
                "- {}: {}\n",
                l("report.administrator"),
                yes_no(e, t)
            ));
        }
        md.push('\n');

        md.push_str(&format!("## {}\n\n", l("report.findings")));
        for f in &self.findings {
            md.push_str(&format!(
                "### [{}] {}\n\n",
                f.severity.as_str().to_uppercase(),
                f.title
            ));
            if !f.explain.trim().is_empty() {
                md.push_str(f.explain.trim());
                md.push_str("\n\n");
            }
            if !f.fix.trim().is_empty() {
                // The fix may be a list: it starts on a line of its own.
                md.push_str(&format!("**{}:**\n\n{}\n\n", l("report.fix"), f.fix.trim()));
            }
            if let Some(g) = &f.guide_title {
                md.push_str(&format!("{}: {g}\n\n", l("report.guide")));
            }
            let id = match &f.failure {
                Some(code) => format!("{} / {code}", f.id),
                None => f.id.to_string(),
            };
            md.push_str(&format!("{}: `{id}`\n\n", l("report.finding_id")));
        }

        md.push_str(&format!("## {}\n\n", l("report.keys")));
        if self.keys.is_empty() {
            md.push_str(&format!("{}\n\n", l("report.no_key")));
        }
        for (i, k) in self.keys.iter().enumerate() {
            md.push_str(&format!(
                "### {} {}: {}\n\n",
                l("report.key"),
                i + 1,
                k.display_name()
            ));
            md.push_str(&key_markdown(k, t));
            md.push('\n');
        }
        md
    }
}

fn yes_no(b: bool, t: &Texts) -> String {
    t.get(if b { "report.yes" } else { "report.no" })
}

fn key_markdown(k: &KeyFacts, t: &Texts) -> String {
    let l = |k: &str| t.get(k);
    let mut rows: Vec<(String, String)> = vec![(l("report.device"), k.device.clone())];
    if let Some(p) = &k.product {
        rows.push((l("report.product"), p.clone()));
    }
    if let Some(id) = &k.usb_id {
        rows.push(("USB ID".into(), id.clone()));
    }
    if let Some(p) = k.protocol {
        let proto = match p {
            Protocol::Fido2 => "FIDO2".to_string(),
            Protocol::U2fOnly => l("report.u2f_only"),
        };
        let v = if k.versions.is_empty() {
            proto
        } else {
            format!("{proto} ({})", k.versions.join(", "))
        };
        rows.push((l("report.protocol"), v));
    }
    if let Some(a) = &k.aaguid {
        rows.push(("AAGUID".into(), a.clone()));
    }
    if let Some(e) = k.eligible {
        rows.push((l("report.eligible"), yes_no(e, t)));
    }
    if let Some(fw) = &k.firmware {
        rows.push((l("report.firmware"), fw.clone()));
    }
    if let Some(p) = k.client_pin {
        let s = match p {
            PinState::Unsupported => l("report.pin_unsupported"),
            PinState::NotSet => l("report.pin_not_set"),
            PinState::Set => l("report.pin_set"),
        };
        let s = match k.pin_retries {
            Some(r) => format!("{s} ({} {r})", l("report.tries_left")),
            None => s,
        };
        rows.push(("PIN".into(), s));
    }
    if let Some(rk) = k.rk {
        let mut s = yes_no(rk, t);
        if let Some(n) = k.rk_remaining {
            s.push_str(&format!(" ({} {n})", l("report.free_slots")));
        }
        rows.push((l("report.discoverable"), s));
    }
    if let Some(v) = super::stored::describe(k, &l) {
        rows.push((l("report.stored"), v));
    }
    if let Some(h) = k.hmac_secret {
        rows.push(("hmac-secret".into(), yes_no(h, t)));
    }
    for (label, step) in [
        (l("report.test_registration"), &k.registration),
        (l("report.test_signin"), &k.sign_in),
    ] {
        if let Some(s) = step {
            let mut v = if s.ok {
                "OK".to_string()
            } else {
                "NG".to_string()
            };
            if let Some(ms) = s.millis {
                v.push_str(&format!(" ({ms} ms)"));
            }
            if let Some(e) = &s.error {
                v.push_str(&format!(": {e}"));
            }
            rows.push((label, v));
        }
    }
    if let Some(v) = k.attestation_verified {
        let fmt = k.attestation_format.as_deref().unwrap_or("?");
        rows.push((l("report.attestation"), format!("{} ({fmt})", yes_no(v, t))));
    }
    if let Some(f) = &k.failure {
        rows.push((
            l("report.probe_stopped"),
            format!("{} [{}]: {}", f.stage, f.code, f.detail),
        ));
    }
    rows.iter().map(|(a, b)| format!("- {a}: {b}\n")).collect()
}
