"""Reading files from outside: only regular files, never a device, FIFO or socket.

``/dev/zero`` or ``/dev/urandom`` (directly or through a symlink) would be
read until memory runs out, and opening a FIFO blocks until someone writes
to it; ``os.stat`` tells them apart without opening anything.
"""
import os
import stat


def regular_file(path):
    """The size of ``path`` from ``os.stat`` (symlinks followed), if it is a regular file.

    Raises FileNotFoundError if it does not exist, IsADirectoryError for a
    folder, and ValueError naming the path for anything else.
    """
    mode = os.stat(path).st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{os.fspath(path)} is a folder, not a file.")
    if not stat.S_ISREG(mode):
        raise ValueError(f"{os.fspath(path)} is not a regular file (a device, FIFO or socket); "
                         "fastnn reads only regular files.")
    return os.stat(path).st_size
