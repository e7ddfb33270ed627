//! Path rules (`PathUtils.validatePath`) and parent/child helpers. Pure string functions.

/// `PathUtils.validatePath`: the rule Java applies to paths of writes and watches.
pub fn validate(path: &str) -> bool {
    if path.is_empty() || !path.starts_with('/') {
        return false;
    }
    if path.len() == 1 {
        return true;
    }
    if path.ends_with('/') {
        return false;
    }
    for seg in path[1..].split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return false;
        }
    }
    // Java checks UTF-16 units; surrogates cannot occur in a Rust string, so U+E000..U+F8FF
    // is the part of Java's D800..F8FF range left to check.
    !path.chars().any(|c| {
        let c = c as u32;
        c <= 0x1f || (0x7f..=0x9f).contains(&c) || (0xd800..=0xf8ff).contains(&c) || (0xfff0..=0xffff).contains(&c)
    })
}

/// Parent of a path as Java computes it (`substring(0, lastIndexOf('/'))`): "" for top-level
/// nodes, which callers map to "/". `None` when there is no slash.
pub fn parent(path: &str) -> Option<&str> {
    path.rfind('/').map(|i| &path[..i])
}

/// Parent path with Java's "" → "/" mapping used for lookups and watch events.
pub fn parent_or_root(path: &str) -> &str {
    match parent(path) {
        Some("") | None => "/",
        Some(p) => p,
    }
}

pub fn child_name(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// `base/child` with the root special-cased.
pub fn join(base: &str, child: &str) -> String {
    if base == "/" {
        format!("/{child}")
    } else {
        format!("{base}/{child}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn validates_like_java() {
        for ok in ["/", "/a", "/a/b", "/a.b", "/..a"] {
            assert!(validate(ok), "{ok}");
        }
        for bad in ["", "a", "/a/", "//a", "/a//b", "/a/.", "/a/../b", "/a\u{0}", "/\u{1}"] {
            assert!(!validate(bad), "{bad:?}");
        }
    }

    #[test]
    fn parents() {
        assert_eq!(parent_or_root("/a"), "/");
        assert_eq!(parent_or_root("/a/b"), "/a");
        assert_eq!(child_name("/a/b"), "b");
        assert_eq!(join("/", "a"), "/a");
    }
}
