//! What every command shares: its failure with an exit status, reading a policy file, writing a
//! file. Below the commands and the dispatcher that runs them.

use std::path::Path;

use cunji_core::policy::Policy;
use cunji_store::StoreError;

/// A failure with its exit status: 2 bad input, 1 anything else.
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn input(message: impl Into<String>) -> Failure {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
    pub fn other(message: impl Into<String>) -> Failure {
        Failure {
            code: 1,
            message: message.into(),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Missing(_)
            | StoreError::BadUrl(_)
            | StoreError::Invalid(_)
            | StoreError::NotFound(_)
            | StoreError::Conflict(_) => Failure::input(format!("错误：{e}")),
            _ => Failure::other(format!("错误：{e}")),
        }
    }
}

pub fn read_policy(path: &Path) -> Result<Policy, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::input(format!("错误：无法读取政策文件 {}：{e}", path.display())))?;
    Policy::parse(&text).map_err(|e| {
        let msg = match e.line {
            Some(l) => format!("{}:{l}: {}", path.display(), e.message),
            None => format!("{}: {}", path.display(), e.message),
        };
        Failure::input(format!("政策文件有误：{msg}"))
    })
}

/// Writes a file, or says in Chinese why it could not.
pub fn write_file(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), Failure> {
    std::fs::write(path, bytes)
        .map_err(|e| Failure::other(format!("错误：无法写入 {}：{e}", path.display())))
}
