"""The document as blocks: markdown-it's tokens folded into headings, paragraphs, lists and quotes,
each with its line."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from markdown_it import MarkdownIt

from .budgets import _too_deep
from .problems import DEFAULT_LIMITS, DocumentError

# --- blocks -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Item:
    line: int
    text: str = ""
    nested: bool = False  # a sub-list or a second paragraph: not part of this grammar


@dataclass(slots=True)
class Block:
    kind: str  # heading | paragraph | list | quote | rule | other
    line: int  # 1-based line of the block's first line
    end: int  # 1-based line after the block
    level: int = 0
    text: str = ""
    ordered: bool = False
    items: list[Item] = field(default_factory=list)


@lru_cache(maxsize=8)
def _markdown(max_nesting: int) -> MarkdownIt:
    """markdown-it for documents nested at most `max_nesting` lists and quotes deep.

    Only the block structure is needed: the grammar reads each inline token's raw source
    (`content`), so the inline pass, two thirds of markdown-it's time on a large document, is
    switched off, and so is the normalizing of line breaks, which `_normalized` has done. markdown-it
    stops descending at `maxNesting` levels (a list is two: the list and its item), so a deeper
    document costs what one at the limit does; one level past the budget is still read, for
    `_blocks` to report it with its line."""
    return MarkdownIt("commonmark", {"maxNesting": 2 * max_nesting + 2}).disable(["normalize", "inline", "text_join"])


_CONTAINER_STEP = {
    "blockquote_open": 1,
    "bullet_list_open": 1,
    "ordered_list_open": 1,
    "blockquote_close": -1,
    "bullet_list_close": -1,
    "ordered_list_close": -1,
}


def _blocks(text: str, max_nesting: int = DEFAULT_LIMITS.max_nesting) -> list[Block]:
    """The blocks of a `_normalized` text."""
    tokens = _markdown(max_nesting).parse(text)
    # Nesting across lines (indented sub-lists) is not seen by the pre-scan: checked on the tokens.
    depth = 0
    for token in tokens:
        step = _CONTAINER_STEP.get(token.type)
        if step:
            depth += step
            if depth > max_nesting:
                raise DocumentError([_too_deep(token.map[0] + 1, max_nesting)])
    blocks: list[Block] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        start, end = (token.map or (0, 0))[0] + 1, (token.map or (0, 0))[1] + 1
        if token.type == "heading_open":
            blocks.append(Block("heading", start, end, level=int(token.tag[1]), text=tokens[i + 1].content))
            i += 3
        elif token.type == "paragraph_open":
            blocks.append(Block("paragraph", start, end, text=tokens[i + 1].content))
            i += 3
        elif token.type == "hr":
            blocks.append(Block("rule", start, end))
            i += 1
        elif token.type == "blockquote_open":
            close = _closing(tokens, i)
            paragraphs = [t.content for t in tokens[i:close] if t.type == "inline"]
            blocks.append(Block("quote", start, end, text="\n\n".join(paragraphs)))
            i = close + 1
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            close = _closing(tokens, i)
            blocks.append(_list_block(tokens[i : close + 1], start, end))
            i = close + 1
        else:
            blocks.append(Block("other", start, end, text=token.type.removesuffix("_open")))
            i = _closing(tokens, i) + 1 if token.nesting == 1 else i + 1
    return blocks


def _closing(tokens, index: int) -> int:
    depth = 0
    for j in range(index, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j
    return len(tokens) - 1


def _list_block(tokens, start: int, end: int) -> Block:
    block = Block("list", start, end, ordered=tokens[0].type == "ordered_list_open")
    item_level = tokens[0].level + 1
    for token in tokens[1:-1]:
        if token.type == "list_item_open" and token.level == item_level:
            block.items.append(Item(line=token.map[0] + 1))
        elif token.type == "inline" and token.level == item_level + 2 and not block.items[-1].text:
            block.items[-1].text = token.content
        elif token.level > item_level and token.nesting != -1 and token.type != "paragraph_open":
            block.items[-1].nested = True
        elif token.type == "inline":
            block.items[-1].nested = True
    return block
