//! The keys pane: attached keys and other devices in a list, what the last
//! check found out about the selected one (model, FIDO2 or U2F, PIN state);
//! or, while a check runs or after it, the check view; or the practice
//! picker.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::content::ui::fill;
use crate::diagnose::{KeyFacts, PinState, Protocol};
use crate::tui::app::App;
use crate::tui::wrap::{self, fit, wrap};

use super::{frame, keycare, picker, probe};

/// Draws the keys pane: frame in `main`, content in `body`.
pub fn render(app: &App, main: Rect, body: Rect, buf: &mut Buffer) {
    if app.practice.open {
        picker::render(app, main, body, buf);
        return;
    }
    if let Some(c) = &app.keycare {
        keycare::render(app, c, main, body, buf);
        return;
    }
    if app.probe.is_some() {
        probe::render(app, main, body, buf);
        return;
    }
    let t = &app.theme;
    frame(app.ascii, t, true)
        .title(Span::styled(
            format!(" {} ", app.text.keys.title),
            t.title(),
        ))
        .render(main, buf);
    let lines = list_lines(app, body.width as usize);
    for (y, line) in lines.iter().take(body.height as usize).enumerate() {
        buf.set_line(body.x, body.y + y as u16, line, body.width);
    }
}

/// A short description of a device row: a FIDO2 / U2F badge once known,
/// then USB id and name, or the simulated key's title.
fn row_label(app: &App, device: &str) -> String {
    let badge = match app.keys.facts.get(device).and_then(|f| f.protocol) {
        Some(Protocol::Fido2) => "[FIDO2] ",
        Some(Protocol::U2fOnly) => "[U2F] ",
        None => "",
    };
    format!("{badge}{}", row_text(app, device))
}

fn row_text(app: &App, device: &str) -> String {
    if let Some(k) = app.keys.hid_info(device) {
        let name = [k.manufacturer.as_deref(), k.product.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        return format!("{:04x}:{:04x}  {name}", k.vendor_id, k.product_id);
    }
    if let Some(name) = device.strip_prefix("sim:") {
        return format!(
            "{} ({})",
            app.scenarios.title(name),
            app.text.keys.simulated
        );
    }
    String::new()
}

/// The list, the selected key's details and the hint, at `width` columns.
pub fn list_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let k = &app.text.keys;
    let mut out: Vec<Line<'static>> = Vec::new();
    if let Some(e) = &app.keys.error {
        out.extend(wrap(
            &[Span::styled(fill(&k.error, &[("error", e)]), t.warning())],
            width,
        ));
        out.push(Line::default());
    }
    let devices = app.keys.devices();
    if devices.is_empty() {
        out.extend(wrap(&[Span::styled(k.none.clone(), t.text())], width));
        return out;
    }
    let dev_w = devices
        .iter()
        .map(|d| wrap::width(d))
        .max()
        .unwrap_or(0)
        .min(width / 2);
    for (i, d) in devices.iter().enumerate() {
        let sel = i == app.keys.selected;
        let style = if sel { t.selected() } else { t.text() };
        let lead = if sel { "> " } else { "  " };
        let dev = wrap::truncate(d, dev_w);
        let pad = dev_w.saturating_sub(wrap::width(&dev));
        let text = format!("{lead}{dev}{}  {}", " ".repeat(pad), row_label(app, d));
        out.push(fit(Line::from(Span::styled(text, style)), width, style));
    }
    out.push(Line::default());
    if let Some(d) = app.keys.selected_device() {
        out.push(Line::styled(k.detail.clone(), t.heading()));
        out.extend(detail_lines(app, &d, width));
        out.push(Line::default());
        out.extend(wrap(&[Span::styled(k.hint.clone(), t.dim())], width));
        out.extend(keycare::hint_lines(app, &d, width));
    }
    out
}

/// `label  value` rows about `device`.
fn detail_lines(app: &App, device: &str, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let k = &app.text.keys;
    let mut rows: Vec<(String, String)> = vec![(k.device.clone(), device.to_string())];
    if let Some(h) = app.keys.hid_info(device) {
        rows.push((
            k.usb.clone(),
            format!("{:04x}:{:04x}", h.vendor_id, h.product_id),
        ));
        if let Some(p) = &h.product {
            rows.push((k.product.clone(), p.clone()));
        }
    }
    if let Some(e) = app.keys.info_errors.get(device) {
        rows.push((String::new(), fill(&k.info_failed, &[("error", e)])));
    }
    match app.keys.facts.get(device) {
        Some(f) => rows.extend(fact_rows(app, f)),
        None => rows.push((String::new(), k.not_checked.clone())),
    }
    let label_w = rows.iter().map(|(l, _)| wrap::width(l)).max().unwrap_or(0) + 2;
    let mut out = Vec::new();
    for (label, value) in rows {
        let vw = width.saturating_sub(label_w).max(1);
        for (i, l) in wrap(&[Span::styled(value, t.text())], vw)
            .into_iter()
            .enumerate()
        {
            let lead = if i == 0 {
                let pad = label_w.saturating_sub(wrap::width(&label));
                Span::styled(format!("{label}{}", " ".repeat(pad)), t.bold())
            } else {
                Span::raw(" ".repeat(label_w))
            };
            let mut spans = vec![lead];
            spans.extend(l.spans);
            out.push(Line::from(spans));
        }
    }
    out
}

/// Model, protocol and PIN rows from what a check found.
pub fn fact_rows(app: &App, f: &KeyFacts) -> Vec<(String, String)> {
    let k = &app.text.keys;
    let mut rows = Vec::new();
    if let Some(m) = &f.model {
        rows.push((k.model.clone(), m.clone()));
    } else if let Some(a) = &f.aaguid {
        rows.push((k.model.clone(), format!("AAGUID {a}")));
    }
    if let Some(p) = f.protocol {
        let v = match p {
            Protocol::Fido2 => k.fido2.clone(),
            Protocol::U2fOnly => k.u2f_only.clone(),
        };
        rows.push((k.protocol.clone(), v));
    }
    let pin = if f.pin_blocked {
        Some(k.pin_blocked.clone())
    } else {
        match f.client_pin {
            Some(PinState::Set) => Some(match f.pin_retries {
                Some(n) => fill(&k.pin_retries, &[("n", &n)]),
                None => k.pin_set.clone(),
            }),
            Some(PinState::NotSet) => Some(k.pin_not_set.clone()),
            Some(PinState::Unsupported) => Some(k.pin_unsupported.clone()),
            None => None,
        }
    };
    if let Some(p) = pin {
        rows.push((k.pin.clone(), p));
    }
    if f.stored.is_some() || f.stored_unreadable.is_some() {
        let labels = crate::content::text::Texts::embedded(app.content.lang);
        let l = |key: &str| labels.get(key);
        if let Some(v) = crate::diagnose::stored::describe(f, &l) {
            rows.push((l("report.stored"), v));
        }
    }
    rows
}
