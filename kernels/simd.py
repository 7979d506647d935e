"""The register-blocked SIMD micro-kernel of the sweep, written in LLVM IR through numba.

Why IR: numba passes arrays without ``noalias``, so LLVM must assume that an
accumulator may alias the weights.  It then keeps no accumulator in a register
across a loop, and does not turn named scalar accumulators into vectors either
(the assembly showed scalar ``vfmadd231sd`` only).  Here the weights being
worked on are explicit 256-bit vectors (4 float64 or 8 float32 lanes) that
live in registers while every sample of a mini-batch uses them.

``row_sweep{1,2}`` — for 1 or 2 weight rows r and c ≤ 4 vectors of columns:
w_r ← decay · w_r, then w_r −= (scale · a_sr) δ_s for the marked samples s in
order (the SGD step, BP4 fused in); then, the new w_r still in registers,
z_s += x_sr w_r for the next mini-batch's marked samples (its forward pass).
``row_forward{1,2}`` is the forward half alone (prediction, and threads that
share the forward pass): the weights are only read; ``row_step{1,2}`` the step
alone (threads that share the step).  Each is a separate, smaller body for
LLVM to compile than one kernel with flags for both halves.

Every lane does exactly the scalar code's operations in the scalar code's order
(one fused multiply-add per product, as ``contract`` lets LLVM do anyway), so
results do not depend on how rows and samples are grouped into blocks, nor on
the number of threads.  Weights past column ``c`` are masked, never read or
written.
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

VECTOR_BITS = 256
I64 = ir.IntType(64)
I32 = ir.IntType(32)


def lanes(dtype):
    """How many numbers of ``dtype`` one vector holds (4 float64, 8 float32)."""
    return VECTOR_BITS // dtype.bitwidth


class _Emitter:
    """LLVM IR helpers shared by the kernels: offsets, masks, loads, stores, splats."""

    def __init__(self, context, builder, dtype):
        self.builder = builder
        self.fty = context.get_value_type(dtype)
        self.n = lanes(dtype)
        self.vty = ir.VectorType(self.fty, self.n)
        self.align = dtype.bitwidth // 8
        self.mty = ir.VectorType(ir.IntType(1), self.n)
        module = builder.module
        ptr = self.vty.as_pointer()
        vname = f"v{self.n}{'f64' if dtype.bitwidth == 64 else 'f32'}"
        suffix = f"{vname}.p0"
        self.mload = cgutils.get_or_insert_function(
            module, ir.FunctionType(self.vty, [ptr, I32, self.mty, self.vty]),
            f"llvm.masked.load.{suffix}")
        self.mstore = cgutils.get_or_insert_function(
            module, ir.FunctionType(ir.VoidType(), [self.vty, ptr, I32, self.mty]),
            f"llvm.masked.store.{suffix}")
        self._fma = cgutils.get_or_insert_function(
            module, ir.FunctionType(self.vty, [self.vty] * 3), f"llvm.fma.{vname}")

    def fma(self, x, y, z):
        """x·y + z rounded once, lane by lane."""
        return self.builder.call(self._fma, [x, y, z])

    def at(self, base, offset):
        """Pointer to a vector starting at element base[offset]."""
        return self.builder.bitcast(self.builder.gep(base, [offset]), self.vty.as_pointer())

    def mask(self, n_cols, v):
        """Lanes j of vector v with v·lanes + j < n_cols."""
        b = self.builder
        left = b.sub(n_cols, ir.Constant(I64, v * self.n))
        lane = ir.Constant(ir.VectorType(I64, self.n), [ir.Constant(I64, j) for j in range(self.n)])
        return b.icmp_signed("<", lane, self.splat(left, ir.VectorType(I64, self.n)))

    def splat(self, x, vty=None):
        vty = vty or self.vty
        b = self.builder
        one = b.insert_element(ir.Constant(vty, ir.Undefined), x, ir.Constant(I32, 0))
        return b.shuffle_vector(one, ir.Constant(vty, ir.Undefined),
                                ir.Constant(ir.VectorType(I32, vty.count), [0] * vty.count))

    def load(self, ptr, mask=None):
        if mask is None:
            return self.builder.load(ptr, align=self.align)
        return self.builder.call(self.mload, [ptr, ir.Constant(I32, self.align), mask,
                                              ir.Constant(self.vty, None)])

    def store(self, value, ptr, mask=None):
        if mask is None:
            self.builder.store(value, ptr, align=self.align)
        else:
            self.builder.call(self.mstore, [value, ptr, ir.Constant(I32, self.align), mask])

    def full_or_masked(self, n_cols, n_vec, emit):
        """emit(masks) once per count of vectors that n_cols ≤ n_vec·lanes needs.

        ``masks`` has one entry per vector holding some column: None (plain
        loads and stores) for all but a partial last one, which gets its mask.
        Masked stores are slow (microcoded on AMD), so only that one is masked,
        and vectors past n_cols are not touched at all.
        """
        b = self.builder
        nv = b.sdiv(b.add(n_cols, ir.Constant(I64, self.n - 1)), ir.Constant(I64, self.n))
        full = b.icmp_signed(">=", n_cols, ir.Constant(I64, n_vec * self.n))
        nv = b.select(full, ir.Constant(I64, n_vec + 1), nv)
        done = b.append_basic_block("cols.done")
        switch = b.switch(nv, done)
        for count in range(1, n_vec + 2):
            block = b.append_basic_block(f"cols.{count}")
            switch.add_case(ir.Constant(I64, count), block)
            b.position_at_end(block)
            if count > n_vec:
                emit([None] * n_vec)
            else:
                emit([None] * (count - 1) + [self.mask(n_cols, count - 1)])
            b.branch(done)
        b.position_at_end(done)


def _unpack(context, builder, sig, args, arrays, types_=None):
    """Data pointers of the array arguments, every other argument as an int64."""
    out = []
    for k, (ty, val) in enumerate(zip(types_ or sig.args, args)):
        if k in arrays:
            out.append(context.make_array(ty)(context, builder, val).data)
        else:
            out.append(context.cast(builder, val, ty, types.int64))
    return out


ROW_VECTORS = 4


def _for_each_set_bit(b, words_ptr, offset, stride, n_words, body):
    """body(s) for every set bit s = 64·w + t of words_ptr[offset + w·stride], w < n_words,
    in increasing order; each word is walked with count-trailing-zeros and clear-lowest."""
    cttz = cgutils.get_or_insert_function(b.module, ir.FunctionType(I64, [I64, ir.IntType(1)]),
                                          "llvm.cttz.i64")
    zero = ir.Constant(I64, 0)
    with cgutils.for_range(b, n_words) as word:
        first = b.load(b.gep(words_ptr, [b.add(offset, b.mul(word.index, stride))]))
        entry = b.block
        head = b.append_basic_block("bits.head")
        step = b.append_basic_block("bits.body")
        done = b.append_basic_block("bits.done")
        b.branch(head)
        b.position_at_end(head)
        bits = b.phi(I64)
        bits.add_incoming(first, entry)
        b.cbranch(b.icmp_unsigned("!=", bits, zero), step, done)
        b.position_at_end(step)
        body(b.add(b.shl(word.index, ir.Constant(I64, 6)),
                   b.call(cttz, [bits, ir.Constant(ir.IntType(1), 1)])))
        bits.add_incoming(b.and_(bits, b.sub(bits, ir.Constant(I64, 1))), b.block)
        b.branch(head)
        b.position_at_end(done)


def _row_sweep(n_rows, step=True, forward=True):
    def codegen(context, builder, sig, args):
        e = _Emitter(context, builder, sig.args[0].dtype)
        floats = (3, 11)
        ints = [k for k in range(len(args)) if k not in floats]
        (wp, w0, ldw, n_cols, dp, d0, ldd, ap, a0, arows, um, uo, ustride, uwords,
         zp, z0, ldz, xp, x0, xrows, fm, fo, fstride, fwords) = _unpack(
            context, builder, sig, [args[k] for k in ints], (0, 4, 7, 9, 10, 14, 17, 19, 20),
            types_=[sig.args[k] for k in ints])
        dtype = sig.args[0].dtype
        decay = context.cast(builder, args[3], sig.args[3], dtype)
        scale = context.cast(builder, args[11], sig.args[11], dtype)
        b = builder
        rows = [b.add(w0, b.mul(ldw, ir.Constant(I64, r))) for r in range(n_rows)]
        acc = [[cgutils.alloca_once(b, e.vty) for _ in range(ROW_VECTORS)] for _ in rows]

        def col(base, v):
            return e.at(wp, b.add(base, ir.Constant(I64, v * e.n)))

        def row_of(offsets, s, base):
            return b.add(base, b.load(b.gep(offsets, [s])))

        def emit(masks):
            d_splat = e.splat(decay)
            for r in range(n_rows):
                for v in range(len(masks)):
                    w = e.load(col(rows[r], v), masks[v])
                    b.store(b.fmul(w, d_splat) if step else w, acc[r][v])
            if step:
                _step(masks)
            if forward:
                _forward(masks)

        def _step(masks):
            # Only the samples whose bit is set: the others' inputs are 0 for
            # these rows and would add 0·δ.  No test per sample, so no
            # mispredicted branch on whether a pixel is 0.  δ is read in whole
            # vectors, unmasked: D's rows have room after their columns,
            # holding 0s, so lanes past n_cols stay 0 and this, the inner
            # loop, pays for no masked load.
            def one_sample(s):
                drow = b.add(d0, b.mul(s, ldd))
                arow = row_of(arows, s, a0)
                a = [b.load(b.gep(ap, [b.add(arow, ir.Constant(I64, r))])) for r in range(n_rows)]
                d = [e.load(e.at(dp, b.add(drow, ir.Constant(I64, v * e.n))))
                     for v in range(len(masks))]
                for r in range(n_rows):
                    c = b.fneg(e.splat(b.fmul(scale, a[r])))
                    for v in range(len(masks)):
                        b.store(e.fma(c, d[v], b.load(acc[r][v])), acc[r][v])
            _for_each_set_bit(b, um, uo, ustride, uwords, one_sample)
            for r in range(n_rows):
                for v in range(len(masks)):
                    e.store(b.load(acc[r][v]), col(rows[r], v), masks[v])

        def _forward(masks):
            # The next mini-batch's forward pass through the rows just updated,
            # still in registers: z_s += x_sr w_r, rows in input order.  z is
            # loaded and stored whole even in a partial last vector (the caller
            # leaves room): a masked store is microcoded on AMD, and a load of
            # what it stored waits for it to retire.  The lanes past n_cols
            # add x·0 (masked-off weights load as 0).
            def forward(s):
                zrow = b.add(z0, b.mul(s, ldz))
                xrow = row_of(xrows, s, x0)
                x = [e.splat(b.load(b.gep(xp, [b.add(xrow, ir.Constant(I64, r))])))
                     for r in range(n_rows)]
                for v in range(len(masks)):
                    z = e.at(zp, b.add(zrow, ir.Constant(I64, v * e.n)))
                    total = e.load(z)
                    for r in range(n_rows):
                        total = e.fma(x[r], b.load(acc[r][v]), total)
                    e.store(total, z)
            _for_each_set_bit(b, fm, fo, fstride, fwords, forward)

        e.full_or_masked(n_cols, ROW_VECTORS, emit)
        return context.get_dummy_value()
    return codegen


def _make_row_sweep(n_rows, step=True, forward=True):
    @intrinsic
    def row_sweep(typingctx, W, w0, ldw, decay, n_cols, D, d0, ldd, A, a0, arows, scale,
                  umask, uo, ustride, uwords, Z, z0, ldz, X, x0, xrows, fmask, fo, fstride,
                  fwords):
        arrays = (W, D, A, Z, X)
        if not (all(isinstance(x, types.Array) for x in arrays)
                and all(x.dtype == W.dtype for x in arrays) and isinstance(W.dtype, types.Float)
                and all(x.dtype == types.int64 for x in (arows, xrows))
                and all(x.dtype == types.uint64 for x in (umask, fmask))):
            return None
        return (types.void(W, w0, ldw, decay, n_cols, D, d0, ldd, A, a0, arows, scale, umask, uo,
                           ustride, uwords, Z, z0, ldz, X, x0, xrows, fmask, fo, fstride,
                           fwords),
                _row_sweep(n_rows, step, forward))
    return row_sweep


row_sweep2 = _make_row_sweep(2)
row_sweep2.__doc__ = """Rows r = 0, 1 of W at w0 + r·ldw, columns j < n_cols ≤ 4·lanes:

    w_rj ← decay · w_rj,  then for every sample s whose bit is set in umask
    w_rj −= (scale · a_sr) · δ_sj                     (s in increasing order)

with a_sr = A[arows[s] + a0 + r] and δ_sj = D[d0 + s·ldd + j] (the SGD step of
one mini-batch, BP4 fused in); each δ vector is loaded once for both rows, and
the two rows' chains of FMAs overlap.  Then, with the new rows still in
registers, the next mini-batch's forward pass through them: for every s set in
fmask,

    Z[z0 + s·ldz + j] += X[xrows[s] + x0 + r] · w_rj      (r = 0, then 1)

so each row is loaded and stored once per mini-batch for both passes.  Arrays
are addressed flat.  Sample s is bit s mod 64 of word ``mask[o + (s // 64)·stride]``
(``uwords``/``fwords`` words).  Z is read and written, and D read, up to the
end of the vector holding column n_cols − 1: the caller leaves up to lanes − 1
numbers of room after each Z and D row's columns, holding 0s (Z's only ever
get 0 added)."""
row_sweep1 = _make_row_sweep(1)
row_sweep1.__doc__ = "``row_sweep2`` for row 0 only."
row_forward2 = _make_row_sweep(2, step=False)
row_forward2.__doc__ = """``row_sweep2``'s forward pass alone: W is read, never written (decay, scale,
D, A, arows and umask are unused)."""
row_forward1 = _make_row_sweep(1, step=False)
row_forward1.__doc__ = "``row_forward2`` for row 0 only."
row_step2 = _make_row_sweep(2, forward=False)
row_step2.__doc__ = """``row_sweep2``'s step alone (Z, X, xrows and fmask are unused)."""
row_step1 = _make_row_sweep(1, forward=False)
row_step1.__doc__ = "``row_step2`` for row 0 only."


@intrinsic
def prefetch(typingctx, A, offset):
    """Ask for the cache line holding A.flat[offset] (read, keep in all levels); a hint only."""
    if not isinstance(A, types.Array):
        return None

    def codegen(context, builder, sig, args):
        data = context.make_array(sig.args[0])(context, builder, args[0]).data
        at = context.cast(builder, args[1], sig.args[1], types.int64)
        i8p = ir.IntType(8).as_pointer()
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, I32, I32, I32]),
            "llvm.prefetch.p0")
        ptr = builder.bitcast(builder.gep(data, [at]), i8p)
        builder.call(fn, [ptr, ir.Constant(I32, 0), ir.Constant(I32, 3), ir.Constant(I32, 1)])
        return context.get_dummy_value()
    return types.void(A, offset), codegen
