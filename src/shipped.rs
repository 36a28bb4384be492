//! The templates and workflows shipped inside the binary, so that every command works from any
//! directory with only `SAFEGUARD_DATA_DIR` set. An operator's folder lies over them: a file
//! there takes the place of the shipped file with the same path, and a new file is added.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

use crate::error::AppError;

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");
static WORKFLOWS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/workflows");

/// A folder of text files: the shipped copy (inside the binary, or a folder on disk standing in
/// for it), and the operator's folder over it.
#[derive(Debug, Clone)]
pub struct Folder {
    base: Base,
    over: Option<PathBuf>,
}

#[derive(Debug, Clone)]
enum Base {
    Embedded(&'static Dir<'static>, &'static str),
    Disk(PathBuf),
}

/// One file as read: where it came from (for messages) and its text.
pub struct ShippedFile {
    pub origin: String,
    pub text: String,
}

impl Folder {
    /// The templates: those in `base` if given (a development copy), else the shipped ones,
    /// with `over` over them.
    pub fn templates(base: Option<&Path>, over: Option<&Path>) -> Folder {
        Folder::new(base, over, &TEMPLATES, "templates")
    }

    /// The workflows: those in `base` if given, else the shipped ones, with `over` over them.
    pub fn workflows(base: Option<&Path>, over: Option<&Path>) -> Folder {
        Folder::new(base, over, &WORKFLOWS, "workflows")
    }

    fn new(
        base: Option<&Path>,
        over: Option<&Path>,
        shipped: &'static Dir<'static>,
        name: &'static str,
    ) -> Folder {
        Folder {
            base: match base {
                Some(dir) => Base::Disk(dir.to_path_buf()),
                None => Base::Embedded(shipped, name),
            },
            over: over.map(Path::to_path_buf),
        }
    }

    /// The file at `relative` (`web/case.hbs`): the operator's if they have one.
    pub fn read(&self, relative: &str) -> Result<ShippedFile, AppError> {
        if let Some(over) = &self.over {
            let path = over.join(relative);
            if path.is_file() {
                return read_disk(&path);
            }
        }
        match &self.base {
            Base::Disk(dir) => read_disk(&dir.join(relative)),
            Base::Embedded(dir, name) => {
                let origin = format!("{name}/{relative} (shipped)");
                let file = dir
                    .get_file(relative)
                    .ok_or_else(|| AppError::Startup(format!("{origin}: not found")))?;
                let text = file
                    .contents_utf8()
                    .ok_or_else(|| AppError::Startup(format!("{origin}: not UTF-8 text")))?;
                Ok(ShippedFile {
                    origin,
                    text: text.to_string(),
                })
            }
        }
    }

    /// The names of the files in the folder `sub` ending in `.ext`, shipped and the
    /// operator's together, in order.
    pub fn names(&self, sub: &str, ext: &str) -> Result<Vec<String>, AppError> {
        let mut names: BTreeMap<String, ()> = BTreeMap::new();
        let wanted = |name: &str| name.ends_with(&format!(".{ext}"));
        match &self.base {
            Base::Disk(dir) => {
                for name in disk_names(&dir.join(sub), true)? {
                    if wanted(&name) {
                        names.insert(name, ());
                    }
                }
            }
            Base::Embedded(dir, _) => {
                let inner = if sub.is_empty() {
                    Some(*dir)
                } else {
                    dir.get_dir(sub)
                };
                for file in inner.into_iter().flat_map(|d| d.files()) {
                    let name = file
                        .path()
                        .file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_default();
                    if wanted(&name) {
                        names.insert(name, ());
                    }
                }
            }
        }
        if let Some(over) = &self.over {
            for name in disk_names(&over.join(sub), false)? {
                if wanted(&name) {
                    names.insert(name, ());
                }
            }
        }
        Ok(names.into_keys().collect())
    }

    /// As `names`, but a folder `sub` that is not there has no files (rather than being an
    /// error, as the base folder itself missing is).
    pub fn names_if_any(&self, sub: &str, ext: &str) -> Result<Vec<String>, AppError> {
        match &self.base {
            Base::Disk(dir) if !dir.join(sub).is_dir() => {
                let mut names = Vec::new();
                if let Some(over) = &self.over {
                    for name in disk_names(&over.join(sub), false)? {
                        if name.ends_with(&format!(".{ext}")) {
                            names.push(name);
                        }
                    }
                }
                Ok(names)
            }
            _ => self.names(sub, ext),
        }
    }

    /// Where the operator's files lie, if anywhere.
    pub fn over(&self) -> Option<&Path> {
        self.over.as_deref()
    }
}

fn read_disk(path: &Path) -> Result<ShippedFile, AppError> {
    let origin = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| AppError::Startup(format!("{origin}: {e}")))?;
    Ok(ShippedFile { origin, text })
}

/// The file names in `dir`; a folder that does not exist has none, unless it must.
fn disk_names(dir: &Path, must_exist: bool) -> Result<Vec<String>, AppError> {
    if !dir.is_dir() {
        return match must_exist {
            true => Err(AppError::Startup(format!(
                "folder {} does not exist",
                dir.display()
            ))),
            false => Ok(Vec::new()),
        };
    }
    let entries = std::fs::read_dir(dir)
        .map_err(|e| AppError::Startup(format!("cannot read {}: {e}", dir.display())))?;
    Ok(entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect())
}
