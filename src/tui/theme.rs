//! Styles of the terminal app in one place. With `NO_COLOR` set (or
//! `color = false`) only bold/underline/reverse are used, never colours.

use ratatui::style::{Color, Modifier, Style};

use crate::diagnose::Severity;

/// The app's styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Whether colours may be used.
    pub color: bool,
}

impl Default for Theme {
    fn default() -> Self {
        Theme { color: true }
    }
}

fn bold() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

impl Theme {
    /// A theme that honours `NO_COLOR` (<https://no-color.org>): any
    /// non-empty value turns colours off. `get` reads one variable.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Theme {
        let no_color = get("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme { color: !no_color }
    }

    fn pick(&self, colored: Style, plain: Style) -> Style {
        if self.color { colored } else { plain }
    }

    /// Bold, in colour `fg` when colours are on.
    fn bold_in(&self, fg: Color) -> Style {
        self.pick(bold().fg(fg), bold())
    }

    /// Bold `fg` on `bg` when colours are on, else bold reversed.
    fn marked(&self, fg: Color, bg: Color) -> Style {
        self.pick(
            bold().fg(fg).bg(bg),
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        )
    }

    /// Ordinary text.
    pub fn text(&self) -> Style {
        Style::default()
    }

    /// Less important text (URLs after links, scroll positions).
    pub fn dim(&self) -> Style {
        self.pick(Style::default().fg(Color::DarkGray), Style::default())
    }

    /// Strong text.
    pub fn bold(&self) -> Style {
        bold()
    }

    /// Emphasised text.
    pub fn italic(&self) -> Style {
        Style::default().add_modifier(Modifier::ITALIC)
    }

    /// Inline code and exact labels.
    pub fn code(&self) -> Style {
        self.pick(Style::default().fg(Color::Yellow), bold())
    }

    /// Link text.
    pub fn link(&self) -> Style {
        let underlined = Style::default().add_modifier(Modifier::UNDERLINED);
        self.pick(underlined.fg(Color::Cyan), underlined)
    }

    /// Headings inside a page.
    pub fn heading(&self) -> Style {
        self.bold_in(Color::Cyan)
    }

    /// A page title.
    pub fn title(&self) -> Style {
        bold()
    }

    /// "Step 3 of 7".
    pub fn step_label(&self) -> Style {
        self.bold_in(Color::Green)
    }

    /// Chapter names in the step list.
    pub fn chapter(&self) -> Style {
        self.bold_in(Color::Yellow)
    }

    /// The current page in the step list.
    pub fn selected(&self) -> Style {
        self.marked(Color::Black, Color::Cyan)
    }

    /// A frame around a pane.
    pub fn border(&self) -> Style {
        self.pick(Style::default().fg(Color::DarkGray), Style::default())
    }

    /// The frame of the focused pane.
    pub fn border_focused(&self) -> Style {
        self.pick(Style::default().fg(Color::Cyan), bold())
    }

    /// The active tab.
    pub fn tab_active(&self) -> Style {
        self.marked(Color::Black, Color::Cyan)
    }

    /// Other tabs.
    pub fn tab(&self) -> Style {
        Style::default()
    }

    /// Key names in hints and help.
    pub fn key(&self) -> Style {
        self.bold_in(Color::Cyan)
    }

    /// The status bar background.
    pub fn status(&self) -> Style {
        self.pick(Style::default().bg(Color::Black), Style::default())
    }

    /// Title bar of a drawn dialog.
    pub fn window_bar(&self) -> Style {
        self.pick(
            Style::default().fg(Color::White).bg(Color::Blue),
            Style::default().add_modifier(Modifier::REVERSED),
        )
    }

    /// The item of a drawn dialog the user must click or pick.
    pub fn target(&self) -> Style {
        self.marked(Color::Black, Color::Yellow)
    }

    /// Other buttons and inputs of a drawn dialog.
    pub fn control(&self) -> Style {
        self.pick(Style::default().fg(Color::White), Style::default())
    }

    /// The "Click: Next" hint under a dialog.
    pub fn hint(&self) -> Style {
        self.bold_in(Color::Yellow)
    }

    /// Warnings such as "terminal too small".
    pub fn warning(&self) -> Style {
        self.bold_in(Color::Yellow)
    }

    /// A finding's severity marker and title: red, yellow, cyan, green;
    /// without colour, failures and warnings are bold.
    pub fn severity(&self, severity: Severity) -> Style {
        match severity {
            Severity::Fail => self.bold_in(Color::Red),
            Severity::Warn => self.bold_in(Color::Yellow),
            Severity::Info => self.pick(Style::default().fg(Color::Cyan), Style::default()),
            Severity::Ok => self.pick(Style::default().fg(Color::Green), Style::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_uses_no_colours() {
        let t = Theme::from_env(|k| (k == "NO_COLOR").then(|| "1".to_string()));
        assert!(!t.color);
        for s in [
            t.selected(),
            t.target(),
            t.link(),
            t.code(),
            t.window_bar(),
            t.dim(),
        ] {
            assert_eq!(s.fg, None);
            assert_eq!(s.bg, None);
        }
        assert!(Theme::from_env(|_| None).color);
        assert!(Theme::from_env(|_| Some(String::new())).color);
    }
}
