"""Numba kernels of the CTC prefix beam search in `asr/decode/prefix_beam.py` (read its docstring).

Prefixes live in a preallocated tree of arrays (a tuple indexed by the field
constants below; node 0 is the empty prefix): extending a prefix is O(1) and
a hypothesis is a node id plus its blank / non-blank log-probs. Hannun et al.
2014, over the CTC output of Graves et al. 2006.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from asr.decode.lexicon import GOLDEN, mix64, trie_child
from asr.decode.lm import lm_logprob10_rows

# Tree fields, indexed by node (FRAME, EMIT, PEAK: where its token is likeliest emitted, see `advance`):
PARENT, TOKEN, CTX, WNODE, HWNODE, EXT, HWP, PHASH, FRAME, EMIT, PEAK = range(11)
# Scalar settings travel as two arrays, `fpar` (float64) and `ipar` (int64), indexed by:
F_ALPHA_LN10, F_BETA, F_UNK_OFFSET, F_THRESHOLD, F_MIN_LOGPROB, F_LOG_SKIP, F_MAX_GAIN = range(7)
I_BEAM, I_TOPK, I_SPACE, I_LM, I_LEXICON, I_HOTWORDS, I_UNK, I_EOS = range(8)


def pack_params(
    *, alpha_ln10, beta, unk_offset, threshold, min_logprob, log_skip, max_gain,
    beam, topk, space, use_lm, use_lexicon, use_hotwords, unk, eos,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(fpar, ipar) for the kernels."""
    fpar, ipar = np.empty(7), np.empty(8, dtype=np.int64)
    fpar[F_ALPHA_LN10], fpar[F_BETA], fpar[F_UNK_OFFSET], fpar[F_THRESHOLD] = alpha_ln10, beta, unk_offset, threshold
    fpar[F_MIN_LOGPROB], fpar[F_LOG_SKIP], fpar[F_MAX_GAIN] = min_logprob, log_skip, max_gain
    ipar[I_BEAM], ipar[I_TOPK], ipar[I_SPACE] = beam, topk, space
    ipar[I_LM], ipar[I_LEXICON], ipar[I_HOTWORDS] = use_lm, use_lexicon, use_hotwords
    ipar[I_UNK], ipar[I_EOS] = unk, eos
    return fpar, ipar


@njit  # scalars only: LLVM inlines it; Numba-level inlining would only slow the compile
def _lae(a, b):
    """log(exp(a) + exp(b))."""
    if a < b:
        a, b = b, a
    if b == -np.inf:
        return a
    return a + math.log1p(math.exp(b - a))


@njit  # scalars only: LLVM inlines it; Numba-level inlining would only slow the compile
def _extend_hash(h, token):
    return mix64(h * np.uint64(31) + np.uint64(token + 1) * np.uint64(GOLDEN)) | np.uint64(1)


@njit  # scalars only: LLVM inlines it; Numba-level inlining would only slow the compile
def _worse(score_a, index_a, score_b, index_b):
    """Candidate a ranks below b: lower score, or equal score and generated later."""
    return score_a < score_b or (score_a == score_b and index_a > index_b)


@njit(inline="always")
def _sift_down(heap_score, heap_index, n, pos):
    while True:
        child = 2 * pos + 1
        if child >= n:
            return
        if child + 1 < n and _worse(heap_score[child + 1], heap_index[child + 1], heap_score[child], heap_index[child]):
            child += 1
        if not _worse(heap_score[child], heap_index[child], heap_score[pos], heap_index[pos]):
            return
        heap_score[pos], heap_score[child] = heap_score[child], heap_score[pos]
        heap_index[pos], heap_index[child] = heap_index[child], heap_index[pos]
        pos = child


@njit(inline="always")
def _sift_up(heap_score, heap_index, pos):
    while pos > 0:
        up = (pos - 1) // 2
        if not _worse(heap_score[pos], heap_index[pos], heap_score[up], heap_index[up]):
            return
        heap_score[pos], heap_score[up] = heap_score[up], heap_score[pos]
        heap_index[pos], heap_index[up] = heap_index[up], heap_index[pos]
        pos = up


@njit(inline="always")
def _select_tokens(row, topk, min_logprob, selected):
    """The `topk` best non-blank tokens at or above `min_logprob`, best first (ties: lower id)."""
    n = 0
    for c in range(1, row.shape[0]):
        y = row[c]
        if y < min_logprob or (n == topk and y <= row[selected[n - 1]]):
            continue
        j = n if n < topk else topk - 1
        while j > 0 and row[selected[j - 1]] < y:
            selected[j] = selected[j - 1]
            j -= 1
        selected[j] = c
        n = min(n + 1, topk)
    return n


@njit(inline="always")
def _slot(table_key, table_stamp, stamp, key):
    mask = np.uint64(table_key.shape[0] - 1)
    s = key & mask
    while table_stamp[s] == stamp and table_key[s] != key:
        s = (s + np.uint64(1)) & mask
    return s


@njit(cache=True, nogil=True)
def advance(logprobs, first_frame, beam_node, beam_pb, beam_pnb, n_beam, tree, n_nodes, lm, words, hot, fpar, ipar):
    """Run the search over logprobs (frames, vocab), whose first frame is `first_frame` of the utterance.

    Updates the beam and the tree in place; returns (n_beam, n_nodes).
    The tree must have room for frames * beam_size more nodes.

    Timing: each node keeps the frame t at which p_nb(t), the probability of frames 0..t with
    its prefix ending in its token at t (after merges and repeats), was highest relative to
    p_b + p_nb of the best hypothesis at t (PEAK, natural log), and its token's log-prob there
    (EMIT). Relative, because the joint p_nb(t) shrinks with every uncertain frame and would
    favour early frames. A prefix that enters a wide beam early on a tiny probability moves
    to its character's spike when that comes. Cost: one log-add per frame and one comparison
    per surviving hypothesis.
    """
    # The hot loops below use these arrays directly: helper calls taking the tuples, even inlined
    # ones, cost ~100 ns each in reference counting (measured: 5x slower at beam 8).
    parent, token, ctx, wnode, hwnode, ext, hwp, phash, frame, emit, peak = tree
    word_keys, word_children, word_ids = words
    hot_keys, hot_children, hot_partial, hot_final = hot
    lm_keys, lm_probs, lm_bows, uni_probs, uni_bows = lm
    alpha_ln10, beta, unk = fpar[F_ALPHA_LN10], fpar[F_BETA], ipar[I_UNK]
    use_lexicon, use_hot, unk_offset = ipar[I_LEXICON] != 0, ipar[I_HOTWORDS] != 0, fpar[F_UNK_OFFSET]
    use_lm = ipar[I_LM] != 0
    n_frames, n_vocab = logprobs.shape
    n_tokens, beam_size, space = np.int64(n_vocab), ipar[I_BEAM], ipar[I_SPACE]
    topk = max(1, min(ipar[I_TOPK], n_vocab - 1))
    threshold, min_logprob = fpar[F_THRESHOLD], fpar[F_MIN_LOGPROB]
    log_skip, max_gain = fpar[F_LOG_SKIP], fpar[F_MAX_GAIN]
    n_max = beam_size * (1 + topk)
    c_node, c_parent, c_token = np.empty(n_max, np.int32), np.empty(n_max, np.int32), np.empty(n_max, np.int32)
    c_wnode, c_hwnode, c_hash = np.empty(n_max, np.int32), np.empty(n_max, np.int32), np.empty(n_max, np.uint64)
    c_pb, c_pnb, c_ext = np.empty(n_max), np.empty(n_max), np.empty(n_max)
    c_hwp, c_score, p_any = np.empty(n_max), np.empty(n_max), np.empty(beam_size)
    size = 2
    while size < 2 * n_max:
        size *= 2
    table_key, table_val = np.empty(size, np.uint64), np.empty(size, np.int32)
    table_stamp = np.zeros(size, np.int64)
    selected = np.empty(topk, np.int64)
    heap_score, heap_index, order = np.empty(beam_size), np.empty(beam_size, np.int64), np.empty(beam_size, np.int64)
    ctx_len = ctx.shape[1]
    c_ctx = np.empty((n_max, ctx_len), np.int32)  # LM state after a candidate's last word, for word ends
    for t in range(n_frames):
        row = logprobs[t]
        log_blank = np.float64(row[0])
        if log_blank > log_skip:  # a (nearly) certain blank: only the blank state advances
            for i in range(n_beam):
                beam_pb[i] = _lae(beam_pb[i], beam_pnb[i]) + log_blank
                beam_pnb[i] = -np.inf
            continue
        n_sel = _select_tokens(row, topk, min_logprob, selected)
        stamp = t + 1
        # 1. every hypothesis stays: a blank, or a repeat of its last token
        best, floor = -np.inf, np.inf
        for i in range(n_beam):
            node = beam_node[i]
            e = token[node]
            c_node[i], c_hash[i], c_ext[i] = node, phash[node], ext[node]
            p_any[i] = _lae(beam_pb[i], beam_pnb[i])
            c_pb[i] = p_any[i] + log_blank
            c_pnb[i] = beam_pnb[i] + row[e] if e >= 0 else -np.inf
            s = _slot(table_key, table_stamp, stamp, phash[node])
            table_key[s], table_stamp[s], table_val[s] = phash[node], stamp, i
            c_score[i] = _lae(c_pb[i], c_pnb[i]) + c_ext[i]  # kept up to date through merges
            best = max(best, c_score[i])
            floor = min(floor, c_score[i])
        n_cand = n_beam
        cutoff = best - threshold
        # A new prefix survives only above `create_cut`. Merges only ever raise a staying
        # hypothesis's score, and never reach a new prefix (two distinct prefixes extended by a
        # token stay distinct), so with a full beam a new prefix scoring at or below the worst
        # staying one (which ranks above it on ties) can never make the beam: skip it early.
        create_cut = max(cutoff, np.nextafter(floor, np.inf)) if n_beam == beam_size else cutoff
        # 2. extensions by the selected tokens (best first, so the first too weak ends the loop)
        for i in range(n_beam):
            node = beam_node[i]
            e, pb, base, p_i = token[node], beam_pb[i], ext[node], p_any[i]
            for j in range(n_sel):
                c = selected[j]
                y = np.float64(row[c])
                score = (pb if c == e else p_i) + y
                if score == -np.inf:
                    continue
                if score + base + max_gain + 1e-9 < cutoff:
                    if c == e:
                        continue
                    break
                if c == e and c == space:  # a second space leaves the text as it is
                    if score + base >= cutoff:
                        c_pnb[i] = _lae(c_pnb[i], score)
                        c_score[i] = _lae(c_pb[i], c_pnb[i]) + c_ext[i]
                    continue
                h = _extend_hash(phash[node], c)
                s = _slot(table_key, table_stamp, stamp, h)
                if table_stamp[s] == stamp:  # this prefix is a candidate already
                    ci = table_val[s]
                    if score + c_ext[ci] >= cutoff:
                        c_pnb[ci] = _lae(c_pnb[ci], score)
                        c_score[ci] = _lae(c_pb[ci], c_pnb[ci]) + c_ext[ci]
                    continue
                if score + base + max_gain + 1e-9 < create_cut:
                    continue  # too weak for a new prefix (a weaker token may still merge into a staying one)
                if c == space:  # the word ends (as in `final_lm`; a helper taking the arrays would cost
                    # an atomic reference-count update per array per call)
                    valid, new_ext = True, base
                    wn = wnode[node]
                    wid = word_ids[wn] if wn >= 0 else -1
                    if use_lexicon and wid < 0:
                        valid = False  # not a lexicon word
                    if use_hot:
                        h0 = hwnode[node]
                        new_ext += (hot_final[h0] if h0 >= 0 else 0.0) - hwp[node]
                    if use_lm and valid:
                        if wid < 0:
                            wid = unk
                        if wid == unk and wn >= 0:
                            new_ext += unk_offset  # out of vocabulary, not yet charged
                        # the LM state after the word goes where the candidate will be (kept if it is)
                        lp10 = lm_logprob10_rows(
                            lm_keys, lm_probs, lm_bows, uni_probs, uni_bows, ctx, node, wid, c_ctx, n_cand
                        )
                        new_ext += alpha_ln10 * lp10 + beta
                    new_wn, new_h, bonus = (0 if wnode[0] >= 0 else -1), (0 if use_hot else -1), 0.0
                else:  # a character: follow the word trie and the hotword trie
                    valid, new_ext, new_wn, new_h, bonus = True, base, -1, -1, 0.0
                    wn = wnode[node]
                    if wn >= 0:
                        new_wn = trie_child(word_keys, word_children, wn, c, n_tokens)
                        if new_wn < 0:
                            valid = not use_lexicon  # leaves the lexicon
                            new_ext += unk_offset  # leaves the LM vocabulary: charge unk_offset once
                    if use_hot:
                        if hwnode[node] >= 0:
                            new_h = trie_child(hot_keys, hot_children, hwnode[node], c, n_tokens)
                        bonus = hot_partial[new_h] if new_h >= 0 else 0.0
                        new_ext += bonus - hwp[node]
                if not valid or score + new_ext < create_cut:
                    continue
                ci = n_cand
                n_cand += 1
                table_key[s], table_stamp[s], table_val[s] = h, stamp, ci
                c_node[ci], c_parent[ci], c_token[ci], c_hash[ci] = -1, node, c, h
                c_wnode[ci], c_hwnode[ci], c_ext[ci], c_hwp[ci] = new_wn, new_h, new_ext, bonus
                c_pb[ci], c_pnb[ci], c_score[ci] = -np.inf, score, score + new_ext  # = _lae(-inf, score) + ext
        # 3. keep the best beam_size candidates within beam_threshold of the best
        best = -np.inf
        n_heap = 0
        for ci in range(n_cand):
            s_ci = c_score[ci]
            best = max(best, s_ci)
            if n_heap < beam_size:
                heap_score[n_heap], heap_index[n_heap] = s_ci, ci
                _sift_up(heap_score, heap_index, n_heap)
                n_heap += 1
            elif _worse(heap_score[0], heap_index[0], s_ci, ci):
                heap_score[0], heap_index[0] = s_ci, ci
                _sift_down(heap_score, heap_index, n_heap, 0)
        n_keep = n_heap
        for r in range(n_keep - 1, -1, -1):  # pop the worst first
            order[r] = heap_index[0]
            heap_score[0], heap_index[0] = heap_score[r], heap_index[r]
            _sift_down(heap_score, heap_index, r, 0)
        while n_keep > 1 and c_score[order[n_keep - 1]] < best - threshold:
            n_keep -= 1
        # 4. the survivors become the beam; new prefixes get a tree node; timings move to this
        # frame where p_nb is relatively higher than at the node's peak so far
        norm = _lae(c_pb[order[0]], c_pnb[order[0]])
        if norm == -np.inf:  # every survivor at -inf: compare joint probabilities
            norm = 0.0
        for r in range(n_keep):
            ci = order[r]
            node = c_node[ci]
            rel = c_pnb[ci] - norm
            if node >= 0 and rel > peak[node]:  # ties keep the earlier frame
                frame[node], emit[node], peak[node] = first_frame + t, row[token[node]], rel
            elif node < 0:
                node = n_nodes
                n_nodes += 1
                p = c_parent[ci]
                parent[node], token[node], phash[node], ext[node] = p, c_token[ci], c_hash[ci], c_ext[ci]
                wnode[node], hwnode[node], hwp[node] = c_wnode[ci], c_hwnode[ci], c_hwp[ci]
                frame[node], emit[node], peak[node] = first_frame + t, row[c_token[ci]], rel
                if c_token[ci] == space and use_lm:
                    for j in range(ctx_len):
                        ctx[node, j] = c_ctx[ci, j]
                else:
                    for j in range(ctx_len):
                        ctx[node, j] = ctx[p, j]
            beam_node[r], beam_pb[r], beam_pnb[r] = node, c_pb[ci], c_pnb[ci]
        n_beam = n_keep
    return n_beam, n_nodes


@njit(cache=True, nogil=True)
def final_lm(beam_node, n_beam, tree, lm, words, hot, fpar, ipar):
    """LM + bonus part of each hypothesis's final score: its last word, then </s>.
    -inf where the lexicon rejects the last word. (The word end is written out as in `advance`.)"""
    token, ctx, wnode, hwnode, ext, hwp = tree[TOKEN], tree[CTX], tree[WNODE], tree[HWNODE], tree[EXT], tree[HWP]
    word_ids, hot_final = words[2], hot[3]
    lm_keys, lm_probs, lm_bows, uni_probs, uni_bows = lm
    use_lm, use_lexicon, use_hot = ipar[I_LM] != 0, ipar[I_LEXICON] != 0, ipar[I_HOTWORDS] != 0
    alpha_ln10, beta, unk_offset = fpar[F_ALPHA_LN10], fpar[F_BETA], fpar[F_UNK_OFFSET]
    space, unk, eos = ipar[I_SPACE], ipar[I_UNK], ipar[I_EOS]
    out = np.empty(n_beam)
    state = np.empty((1, ctx.shape[1]), np.int32)
    for i in range(n_beam):
        node = beam_node[i]
        score = ext[node]
        if token[node] != space:  # end the last word
            wn = wnode[node]
            wid = word_ids[wn] if wn >= 0 else -1
            if use_lexicon and wid < 0:
                out[i] = -np.inf  # not a lexicon word
                continue
            if use_hot:
                h = hwnode[node]
                score += (hot_final[h] if h >= 0 else 0.0) - hwp[node]
            if use_lm:
                if wid < 0:
                    wid = unk
                if wid == unk and wn >= 0:
                    score += unk_offset  # out of vocabulary, not yet charged
                lp10 = lm_logprob10_rows(lm_keys, lm_probs, lm_bows, uni_probs, uni_bows, ctx, node, wid, state, 0)
                score += alpha_ln10 * lp10 + beta
        else:
            for j in range(ctx.shape[1]):
                state[0, j] = ctx[node, j]
        if use_lm:
            lp10 = lm_logprob10_rows(lm_keys, lm_probs, lm_bows, uni_probs, uni_bows, state, 0, eos, state, 0)
            score += alpha_ln10 * lp10
        out[i] = score
    return out


@njit(cache=True, nogil=True)
def finish(beam_node, beam_pb, beam_pnb, n_beam, tree, lm, words, hot, fpar, ipar, nbest):
    """The N-best after end-of-utterance scoring: hypotheses with the same text merged ("a b " and
    "a b" are one text: acoustic scores log-added, the LM part and node of the first kept), ranked
    by total score (ties: beam order), those the lexicon rejects left out.

    Returns two arrays (each array returned to Python costs ~0.3 us):
      ints    int64[2 + n + 2 L]: n, offsets[n + 1], token ids[L], token frames[L];
      floats  float64[2 n + L]: acoustic scores[n], LM parts[n], token log-probs[L];
    hypothesis r spans [offsets[r], offsets[r + 1]) of the per-token parts. A token's frame is its
    node's FRAME, moved before the next token's frame where it is not already (the words stay in order).
    """
    parent, token, phash, frame, emit = tree[PARENT], tree[TOKEN], tree[PHASH], tree[FRAME], tree[EMIT]
    space = ipar[I_SPACE]
    final = final_lm(beam_node, n_beam, tree, lm, words, hot, fpar, ipar)
    keys, am, lm_part = np.empty(n_beam, np.uint64), np.empty(n_beam), np.empty(n_beam)
    first_node, total = np.empty(n_beam, np.int64), np.empty(n_beam)
    m = 0
    for i in range(n_beam):
        if final[i] == -np.inf:
            continue
        node = beam_node[i]
        a = _lae(beam_pb[i], beam_pnb[i])
        key = phash[parent[node]] if node != 0 and token[node] == space else phash[node]
        j = 0
        while j < m and keys[j] != key:  # n_beam <= beam_size: a linear scan is cheap
            j += 1
        if j < m:
            am[j] = _lae(am[j], a)
        else:
            keys[m], am[m], lm_part[m], first_node[m] = key, a, final[i], node
            m += 1
    for j in range(m):
        total[j] = -(am[j] + lm_part[j])
    if nbest == 1 and m > 0:  # the first best: what the stable sort below would put first
        order = np.zeros(1, np.int64)
        for j in range(1, m):
            if total[j] < total[order[0]]:
                order[0] = j
    else:
        order = np.argsort(total[:m], kind="mergesort")[: max(0, nbest)]  # stable: ties keep beam order
    n = order.shape[0]
    length = 0
    for r in range(n):
        length += _text_length(parent, token, first_node[order[r]], space)
    ints, floats = np.empty(2 + n + 2 * length, np.int64), np.empty(2 * n + length)
    ints[0], ints[1] = n, 0
    offsets, ids, frames = ints[1 : n + 2], ints[n + 2 : n + 2 + length], ints[n + 2 + length :]
    logprobs = floats[2 * n :]
    for r in range(n):
        j = order[r]
        floats[r], floats[n + r] = am[j], lm_part[j]
        node = first_node[j]
        offsets[r + 1] = offsets[r] + _text_length(parent, token, node, space)
        if node != 0 and token[node] == space:
            node = parent[node]  # "a b " is the text "a b"
        pos, after = offsets[r + 1], np.int64(2**62)
        while pos > offsets[r]:
            pos -= 1
            after = min(np.int64(frame[node]), after - 1)
            ids[pos], frames[pos], logprobs[pos] = token[node], after, emit[node]
            node = parent[node]
    return ints, floats


@njit(inline="always")
def _text_length(parent, token, node, space):
    """Tokens from the root's child to `node`, less a final space."""
    n = 0
    if node != 0 and token[node] == space:
        node = parent[node]
    while parent[node] >= 0:
        n += 1
        node = parent[node]
    return n


@njit(cache=True, nogil=True)
def decode_utterance(logprobs, frames_per_call, root_ctx, lm, words, hot, fpar, ipar, nbest):
    """`BeamSearchDecoder.begin`, `step` and `end` in one call: one dispatch instead of four
    (each costs ~10 us of argument unboxing, as much as ~20 frames of search at beam 8).
    Returns what `finish` returns."""
    beam_size = ipar[I_BEAM]
    n_frames = logprobs.shape[0]
    tree = new_tree(1 + beam_size * min(n_frames, frames_per_call), root_ctx.shape[0])
    init_root(tree, root_ctx, ipar)
    beam_node, beam_pb, beam_pnb = np.zeros(beam_size, np.int32), np.zeros(beam_size), np.full(beam_size, -np.inf)
    n_beam, n_nodes = 1, 1
    for start in range(0, n_frames, frames_per_call):
        chunk = logprobs[start : start + frames_per_call]
        need = chunk.shape[0] * beam_size
        if n_nodes + need > tree[PARENT].shape[0]:  # as BeamSearchDecoder._reserve
            capacity = tree[PARENT].shape[0]
            n_nodes = compact(tree, n_nodes, beam_node, n_beam)
            if 2 * (n_nodes + need) > capacity:
                tree = grow_tree(tree, 2 * (n_nodes + need))
        n_beam, n_nodes = advance(
            chunk, start, beam_node, beam_pb, beam_pnb, n_beam, tree, n_nodes, lm, words, hot, fpar, ipar
        )
    return finish(beam_node, beam_pb, beam_pnb, n_beam, tree, lm, words, hot, fpar, ipar, nbest)


@njit(cache=True)
def new_tree(capacity, ctx_len):
    """Per node: parent, token, LM state (capacity, ctx_len), word-trie node, hotword node, LM + bonus
    score, hotword bonus held, hash of the token sequence, frame where its token is likeliest emitted,
    token log-prob then, relative log p_nb then (see `advance`)."""
    return (
        np.empty(capacity, np.int32), np.empty(capacity, np.int32), np.empty((capacity, ctx_len), np.int32),
        np.empty(capacity, np.int32), np.empty(capacity, np.int32), np.empty(capacity), np.empty(capacity),
        np.empty(capacity, np.uint64), np.empty(capacity, np.int32), np.empty(capacity, np.float32),
        np.empty(capacity),
    )  # fmt: skip


@njit(cache=True)
def init_root(tree, root_ctx, ipar):
    """The empty prefix. Its token is the space: a space after it leaves the text unchanged."""
    tree[PARENT][0], tree[TOKEN][0], tree[CTX][0, :] = -1, ipar[I_SPACE], root_ctx
    tree[WNODE][0] = 0 if (ipar[I_LM] or ipar[I_LEXICON]) else -1
    tree[HWNODE][0] = 0 if ipar[I_HOTWORDS] else -1
    tree[EXT][0], tree[HWP][0], tree[PHASH][0], tree[FRAME][0], tree[EMIT][0] = 0.0, 0.0, 1, -1, 0.0
    tree[PEAK][0] = -np.inf


@njit(cache=True)
def grow_tree(tree, capacity):
    """A copy of the tree with room for `capacity` nodes."""
    new = new_tree(capacity, tree[CTX].shape[1])
    n = tree[PARENT].shape[0]
    new[PARENT][:n], new[TOKEN][:n], new[CTX][:n] = tree[PARENT], tree[TOKEN], tree[CTX]
    new[WNODE][:n], new[HWNODE][:n], new[EXT][:n], new[HWP][:n] = tree[WNODE], tree[HWNODE], tree[EXT], tree[HWP]
    new[PHASH][:n], new[FRAME][:n], new[EMIT][:n], new[PEAK][:n] = tree[PHASH], tree[FRAME], tree[EMIT], tree[PEAK]
    return new


@njit(cache=True, nogil=True)
def compact(tree, n_nodes, beam_node, n_beam):
    """Keep only the beam's prefixes and their ancestors (parents precede children); returns n_nodes."""
    parent = tree[PARENT]
    keep = np.zeros(n_nodes, np.bool_)
    for i in range(n_beam):
        node = beam_node[i]
        while node >= 0 and not keep[node]:
            keep[node] = True
            node = parent[node]
    new_id = np.full(n_nodes, -1, np.int32)
    n = 0
    for old in range(n_nodes):
        if keep[old]:
            new_id[old] = n
            p = parent[old]
            parent[n] = new_id[p] if p >= 0 else -1
            tree[TOKEN][n], tree[WNODE][n], tree[HWNODE][n] = tree[TOKEN][old], tree[WNODE][old], tree[HWNODE][old]
            tree[EXT][n], tree[HWP][n], tree[PHASH][n] = tree[EXT][old], tree[HWP][old], tree[PHASH][old]
            tree[FRAME][n], tree[EMIT][n], tree[PEAK][n] = tree[FRAME][old], tree[EMIT][old], tree[PEAK][old]
            tree[CTX][n, :] = tree[CTX][old, :]
            n += 1
    for i in range(n_beam):
        beam_node[i] = new_id[beam_node[i]]
    return n


@njit(cache=True, nogil=True)
def node_path(parent, node):
    """Nodes from the root's child to `node`: int64[prefix length]."""
    n = 0
    x = node
    while parent[x] >= 0:
        n += 1
        x = parent[x]
    out = np.empty(n, np.int64)
    while parent[node] >= 0:
        n -= 1
        out[n] = node
        node = parent[node]
    return out
