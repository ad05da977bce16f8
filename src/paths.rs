//! Path text helpers the profile's checks, the plan and the executor share
//! (a leaf module: the profile may not import the plan).

/// An absolute path's parent folder ("/" at the top) and last name.
pub fn split_parent(path: &str) -> (String, String) {
    let p = std::path::Path::new(path);
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = p
        .parent()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_else(|| "/".into());
    (parent, name)
}
