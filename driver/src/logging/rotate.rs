//! A log file with a size cap: when the next record would pass the cap, the file is renamed
//! `NAME.1` (older ones shifted to `NAME.2` … `NAME.<keep>`, the oldest removed) and a new one
//! begun; with `keep` 0 it is emptied, as Siebel's `MaxLogKB` does. `reopen` closes and opens
//! the path again, for a file moved away by logrotate.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// An append-only log file that rotates at a size cap.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    keep: u32,
    file: Option<File>,
    size: u64,
}

impl RotatingFile {
    /// Opens (or creates) `path` for appending. `max_bytes` 0: no cap.
    pub fn open(path: &Path, max_bytes: u64, keep: u32) -> io::Result<RotatingFile> {
        let mut f = RotatingFile {
            path: path.to_path_buf(),
            max_bytes,
            keep,
            file: None,
            size: 0,
        };
        f.open_file()?;
        Ok(f)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open_file(&mut self) -> io::Result<()> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.size = file.metadata().map(|m| m.len()).unwrap_or(0);
        self.file = Some(file);
        Ok(())
    }

    /// Closes the file and opens its path again (a new file if it was moved away).
    pub fn reopen(&mut self) -> io::Result<()> {
        self.file = None;
        self.open_file()
    }

    /// The name of the `n`th older file.
    pub fn rotated_path(&self, n: u32) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> io::Result<()> {
        // Closed first: Windows cannot rename an open file.
        self.file = None;
        if self.keep == 0 {
            File::create(&self.path)?;
        } else {
            let _ = std::fs::remove_file(self.rotated_path(self.keep));
            for n in (1..self.keep).rev() {
                let from = self.rotated_path(n);
                if from.exists() {
                    std::fs::rename(&from, self.rotated_path(n + 1))?;
                }
            }
            std::fs::rename(&self.path, self.rotated_path(1))?;
        }
        self.open_file()
    }

    /// Writes one whole record, rotating first if it would pass the cap. A file that could
    /// not be opened is tried again at the next record.
    pub fn write_record(&mut self, record: &[u8]) -> io::Result<()> {
        let len = record.len() as u64;
        if self.max_bytes > 0 && self.size > 0 && self.size + len > self.max_bytes {
            if let Err(e) = self.rotate() {
                // Keep logging into the file as it is rather than losing records.
                if self.file.is_none() {
                    self.open_file()?;
                }
                self.write_raw(record)?;
                return Err(e);
            }
        }
        if self.file.is_none() {
            self.open_file()?;
        }
        self.write_raw(record)
    }

    fn write_raw(&mut self, record: &[u8]) -> io::Result<()> {
        if let Some(f) = self.file.as_mut() {
            f.write_all(record)?;
            self.size += record.len() as u64;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::temp_dir;

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap_or_default()
    }

    #[test]
    fn rotates_at_the_cap_and_keeps_the_newest_files() {
        let dir = temp_dir("rotate");
        let path = dir.join("driver.log");
        let mut f = RotatingFile::open(&path, 30, 2).unwrap();
        for i in 0..8 {
            f.write_record(format!("record {i:02} .........\n").as_bytes())
                .unwrap();
        }
        // 20 bytes a record, 30 bytes a file: one record per file.
        assert_eq!(read(&path), "record 07 .........\n");
        assert_eq!(read(&f.rotated_path(1)), "record 06 .........\n");
        assert_eq!(read(&f.rotated_path(2)), "record 05 .........\n");
        assert!(!f.rotated_path(3).exists(), "only 2 older files kept");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn keep_zero_empties_the_file_like_siebel() {
        let dir = temp_dir("empty");
        let path = dir.join("driver.log");
        let mut f = RotatingFile::open(&path, 25, 0).unwrap();
        f.write_record(b"first record ......\n").unwrap();
        f.write_record(b"second record .....\n").unwrap();
        assert_eq!(read(&path), "second record .....\n");
        assert!(!f.rotated_path(1).exists());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn no_cap_appends_and_an_existing_file_counts_toward_the_cap() {
        let dir = temp_dir("append");
        let path = dir.join("c.log");
        std::fs::write(&path, "old line from before\n").unwrap();
        let mut f = RotatingFile::open(&path, 0, 3).unwrap();
        f.write_record(b"new\n").unwrap();
        assert_eq!(read(&path), "old line from before\nnew\n");
        drop(f);
        let mut f = RotatingFile::open(&path, 30, 3).unwrap();
        f.write_record(b"one more line ...\n").unwrap();
        assert_eq!(read(&f.rotated_path(1)), "old line from before\nnew\n");
        assert_eq!(read(&path), "one more line ...\n");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn reopen_starts_a_new_file_after_logrotate_moved_it() {
        let dir = temp_dir("reopen");
        let path = dir.join("c.log");
        let moved = dir.join("c.log.moved");
        let mut f = RotatingFile::open(&path, 0, 0).unwrap();
        f.write_record(b"before\n").unwrap();
        std::fs::rename(&path, &moved).unwrap();
        f.write_record(b"still the old file\n").unwrap();
        f.reopen().unwrap();
        f.write_record(b"after\n").unwrap();
        assert_eq!(read(&moved), "before\nstill the old file\n");
        assert_eq!(read(&path), "after\n");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
