"""The line of every key of a TOML text, which tomllib does not give.

``tomllib`` gives the line of a syntax error but not of a value, so a
draft's mistakes are placed by scanning the (already valid) text once for
the line of every table header, key and array element.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

KeyPath = tuple[Any, ...]


# tomllib has validated the text, so this scanner only has to follow valid TOML.
class Positions:
    """The line of every table header, key and array element of a valid TOML
    text, by key path (array-of-tables and array elements by index)."""

    def __init__(self, text: str) -> None:
        self.s, self.i, self.line = text, 0, 1
        self.lines: dict[KeyPath, int] = {}
        self._aot: dict[KeyPath, int] = {}
        self._scan()

    def _mark(self, path: KeyPath) -> None:
        """path is here; so are the tables a dotted key or header opens."""
        for k in range(1, len(path)):
            self.lines.setdefault(path[:k], self.line)
        self.lines[path] = self.line

    def line_of(self, path: KeyPath) -> int:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1

    # -- characters
    def _peek(self, k: int = 0) -> str:
        return self.s[self.i + k] if self.i + k < len(self.s) else ""

    def _take(self, n: int = 1) -> str:
        part = self.s[self.i:self.i + n]
        self.line += part.count("\n")
        self.i += n
        return part

    def _spaces(self, newlines: bool = False) -> None:
        while self.i < len(self.s):
            c = self._peek()
            if c in " \t\r" or (newlines and c == "\n"):
                self._take()
            elif newlines and c == "#":
                self._comment()
            else:
                return

    def _comment(self) -> None:
        while self.i < len(self.s) and self._peek() != "\n":
            self._take()

    # -- tokens
    def _string(self) -> str:
        s = self.s
        for delim in ('"""', "'''"):
            if s.startswith(delim, self.i):
                start = self.i
                self._take(3)
                while not s.startswith(delim, self.i):
                    self._take(2 if delim == '"""' and self._peek() == "\\" else 1)
                n = 3
                while n < 5 and self._peek(n) == delim[0]:  # up to two quotes end the content
                    n += 1
                self._take(n)
                return s[start:self.i]
        q, start = self._take(), self.i - 1
        while self._peek() != q:
            self._take(2 if q == '"' and self._peek() == "\\" else 1)
        self._take()
        return s[start:self.i]

    def _key(self) -> tuple[str, ...]:
        parts: list[str] = []
        while True:
            self._spaces()
            if self._peek() in "\"'":
                raw = self._string()
                parts.append(tomllib.loads(f"k = {raw}")["k"])
            else:
                m = re.compile(r"[A-Za-z0-9_-]+").match(self.s, self.i)
                parts.append(m.group(0) if m else "")
                self._take(len(m.group(0)) if m else 1)
            self._spaces()
            if self._peek() != ".":
                return tuple(parts)
            self._take()

    def _value(self, path: KeyPath) -> None:
        c = self._peek()
        if c == "[":
            self._take()
            n = 0
            while True:
                self._spaces(newlines=True)
                if self._peek() == "]":
                    self._take()
                    return
                self.lines[path + (n,)] = self.line
                self._value(path + (n,))
                self._spaces(newlines=True)
                if self._peek() == ",":
                    self._take()
                n += 1
        elif c == "{":
            self._take()
            while True:
                self._spaces()
                if self._peek() == "}":
                    self._take()
                    return
                if self._peek() == ",":
                    self._take()
                    continue
                key = path + self._key()
                self._mark(key)
                self._take()  # =
                self._spaces()
                self._value(key)
        elif c in "\"'":
            self._string()
        else:
            while self.i < len(self.s) and self._peek() not in ",]}\n#" and self._peek() not in " \t\r":
                self._take()

    def _resolve(self, keys: tuple[str, ...]) -> KeyPath:
        cur: KeyPath = ()
        for k in keys:
            cur += (k,)
            if cur in self._aot:
                cur += (self._aot[cur] - 1,)
        return cur

    def _scan(self) -> None:
        table: KeyPath = ()
        while self.i < len(self.s):
            self._spaces()
            c = self._peek()
            if c == "\n":
                self._take()
            elif c == "#":
                self._comment()
            elif c == "[":
                many = self.s.startswith("[[", self.i)
                self._take(2 if many else 1)
                keys = self._key()
                self._take(2 if many else 1)
                if many:
                    owner = self._resolve(keys[:-1]) + (keys[-1],)
                    self.lines.setdefault(owner, self.line)
                    n = self._aot.get(owner, 0)
                    self._aot[owner] = n + 1
                    table = owner + (n,)
                else:
                    table = self._resolve(keys)
                if table not in self.lines:
                    self._mark(table)
            elif c:
                key = table + self._key()
                self._mark(key)
                self._take()  # =
                self._spaces()
                self._value(key)
            else:
                break
