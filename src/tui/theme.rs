//! Styles of the terminal app in one place. With `NO_COLOR` set (or
//! `color = false`) only bold/underline/reverse are used, never colours.

use ratatui::style::{Color, Modifier, Style};

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
        Style::default().add_modifier(Modifier::BOLD)
    }

    /// Emphasised text.
    pub fn italic(&self) -> Style {
        Style::default().add_modifier(Modifier::ITALIC)
    }

    /// Inline code and exact labels.
    pub fn code(&self) -> Style {
        self.pick(
            Style::default().fg(Color::Yellow),
            Style::default().add_modifier(Modifier::BOLD),
        )
    }

    /// Link text.
    pub fn link(&self) -> Style {
        self.pick(
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::UNDERLINED),
            Style::default().add_modifier(Modifier::UNDERLINED),
        )
    }

    /// Headings inside a page.
    pub fn heading(&self) -> Style {
        self.pick(
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            Style::default().add_modifier(Modifier::BOLD),
        )
    }

    /// A page title.
    pub fn title(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    /// "Step 3 of 7".
    pub fn step_label(&self) -> Style {
        self.pick(
            Style::default()
                .fg(Color::Green)
                .add_modifier(Modifier::BOLD),
            Style::default().add_modifier(Modifier::BOLD),
        )
    }

    /// Chapter names in the step list.
    pub fn chapter(&self) -> Style {
        self.pick(
            Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            Style::default().add_modifier(Modifier::BOLD),
        )
    }

    /// The current page in the step list.
    pub fn selected(&self) -> Style {
        self.pick(
            Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        )
    }

    /// A frame around a pane.
    pub fn border(&self) -> Style {
        self.pick(Style::default().fg(Color::DarkGray), Style::default())
    }

    /// The frame of the focused pane.
    pub fn border_focused(&self) -> Style {
        self.pick(
            Style::default().fg(Color::Cyan),
            Style::default().add_modifier(Modifier::BOLD),
        )
    }

    /// The active tab.
    pub fn tab_active(&self) -> Style {
        self.pick(
            Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        )
    }

    /// Other tabs.
    pub fn tab(&self) -> Style {
        Style::default()
    }

    /// Key names in hints and help.
    pub fn key(&self) -> Style {
        self.pick(
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            Style::default().add_modifier(Modifier::BOLD),
        )
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
        self.pick(
            Style::default()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        )
    }

    /// Other buttons and inputs of a drawn dialog.
    pub fn control(&self) -> Style {
        self.pick(Style::default().fg(Color::White), Style::default())
    }

    /// The "Click: Next" hint under a dialog.
    pub fn hint(&self) -> Style {
        self.pick(
            Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            Style::default().add_modifier(Modifier::BOLD),
        )
    }

    /// Warnings such as "terminal too small".
    pub fn warning(&self) -> Style {
        self.pick(
            Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            Style::default().add_modifier(Modifier::BOLD),
        )
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
