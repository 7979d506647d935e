"""Writing a file so that a crash leaves either its old or its whole new content.

Model files, checkpoints and the command line's outputs (metrics, book
results) are all written this way.
"""
import os
import tempfile


def atomic_write(path, write):
    """Write a file so that ``path`` holds either its old or its whole new content.

    ``write(file)`` writes to a temporary file in the same folder (a rename
    is atomic only within one file system); the file is flushed and fsynced,
    renamed over ``path`` with ``os.replace``, and the folder is fsynced so
    the rename itself survives a crash.  On any error the temporary file is
    removed and ``path`` is untouched.

    Parameters
    ----------
    path : str or os.PathLike
    write : callable
        Called with the open binary file object.
    """
    path = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp creates the file 0600; give it the mode open() would have.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)


def _umask():
    # Reading the umask from /proc avoids os.umask's set-and-restore, which
    # would briefly change it for every thread of the process.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def _fsync_folder(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a folder; its rename is durable enough.
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
