#!/usr/bin/python3
"""PyTorch oracle for melodist's training engine (src/nn/engine.h).

Builds the melodist network (stacked LSTM -> inverted dropout after every LSTM layer -> Linear ->
softmax cross-entropy) from torch.nn.LSTM / torch.nn.Linear with fixed, seeded weights and a fixed
batch, and dumps, in melodist's weight layout (src/nn/model.h: gates i,f,g,o; w_x (E,4H) = weight_ih^T,
w_h (H,4H) = weight_hh^T, b = bias_ih (bias_hh held at 0), w_y (H,V) = Linear.weight^T, b_y):
  the parameters, tokens/targets (T,B) time-major, the initial state h0/c0 (L,B,H), the dropout masks
  (L,T,B,H), the logits (T,B,V), the mean loss, every parameter gradient, and the loss before each of
  10 Adam updates (Keras rule and constants: b1 0.9, b2 0.999, eps 1e-7 added to sqrt(v) without bias
  correction; gradients clipped by global norm first) and the parameters after them.
The layer-0 input is one-hot (x @ weight_ih^T), which melodist replaces by gathering rows of w_x.

Run: /usr/bin/python3 tools/torch_reference_lstm.py tests/fixtures/nn/torch_reference.json
"""
import json
import sys

import torch

torch.set_default_dtype(torch.float32)


def build_case(name, V, H, L, B, T, dropout, stateful, objective, seed):
    g = torch.Generator().manual_seed(seed)
    lstms = [torch.nn.LSTM(V if l == 0 else H, H, num_layers=1) for l in range(L)]
    dense = torch.nn.Linear(H, V)
    with torch.no_grad():
        for m in lstms + [dense]:
            for p in m.parameters():
                p.copy_(torch.rand(p.shape, generator=g) - 0.5)
        # melodist keeps ONE summed bias per layer; Adam on two biases would move their sum twice as
        # far, so bias_hh is held at zero and out of training, and bias_ih is the melodist bias.
        for m in lstms:
            m.bias_hh_l0.zero_()
            m.bias_hh_l0.requires_grad_(False)
    tokens = torch.randint(0, V, (T, B), generator=g)
    targets = torch.randint(0, V, (T, B), generator=g)
    if objective == "last":
        targets[:-1, :] = -1
    else:
        targets[1, 0] = -1  # an unscored position
        targets[3, 2] = -1
    if stateful:
        h0 = (torch.rand((L, B, H), generator=g) - 0.5)
        c0 = (torch.rand((L, B, H), generator=g) - 0.5) * 2
    else:
        h0 = torch.zeros((L, B, H))
        c0 = torch.zeros((L, B, H))
    if dropout > 0:
        keep = (torch.rand((L, T, B, H), generator=g) >= dropout).float()
        mask = keep / (1.0 - dropout)
    else:
        mask = torch.ones((L, T, B, H))
    params = [p for m in lstms + [dense] for p in m.parameters() if p.requires_grad]

    def forward():
        x = torch.nn.functional.one_hot(tokens, V).float()  # (T, B, V)
        for l in range(L):
            out, _ = lstms[l](x, (h0[l:l + 1], c0[l:l + 1]))  # (T, B, H)
            x = out * mask[l]
        logits = dense(x)  # (T, B, V)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-1)
        return logits, loss

    def melodist_layout(get):
        """Tensors named as in melodist, from get(param) (the parameter itself or its gradient)."""
        out = {}
        for l, m in enumerate(lstms):
            out[f"lstm.{l}.w_x"] = get(m.weight_ih_l0).t().contiguous()
            out[f"lstm.{l}.w_h"] = get(m.weight_hh_l0).t().contiguous()
            out[f"lstm.{l}.b"] = get(m.bias_ih_l0)  # bias_hh_l0 is zero (see above)
        out["dense.w_y"] = get(dense.weight).t().contiguous()
        out["dense.b_y"] = get(dense.bias)
        return out

    start_params = melodist_layout(lambda p: p.detach().clone())
    logits, loss = forward()
    loss.backward()
    grads = melodist_layout(lambda p: p.grad.detach().clone())
    grad_norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in params)).item()
    clip = round(0.5 * grad_norm, 3)  # clipping is active on the first updates

    # 10 Adam steps, Keras update rule, written out here (not torch.optim.Adam, whose epsilon differs).
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    ms = [torch.zeros_like(p) for p in params]
    vs = [torch.zeros_like(p) for p in params]
    adam_losses = []
    for step in range(1, 11):
        for p in params:
            p.grad = None
        _, l_ = forward()
        l_.backward()
        adam_losses.append(l_.item())
        with torch.no_grad():
            norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in params)).item()
            scale = clip / norm if norm > clip else 1.0
            lr_t = lr * (1 - b2 ** step) ** 0.5 / (1 - b1 ** step)
            for p, m, v in zip(params, ms, vs):
                gr = p.grad * scale
                m.mul_(b1).add_((1 - b1) * gr)
                v.mul_(b2).add_((1 - b2) * gr * gr)
                p.sub_(lr_t * m / (torch.sqrt(v) + eps))
    end_params = melodist_layout(lambda p: p.detach().clone())

    flat = lambda t: [float(x) for x in t.reshape(-1).tolist()]
    return {
        "name": name, "V": V, "H": H, "L": L, "B": B, "T": T, "dropout": dropout, "objective": objective,
        "tokens": [int(x) for x in tokens.reshape(-1).tolist()],
        "targets": [int(x) for x in targets.reshape(-1).tolist()],
        "h0": flat(h0), "c0": flat(c0), "mask": flat(mask),
        "params": {k: flat(v) for k, v in start_params.items()},
        "logits": flat(logits.detach()), "loss": loss.item(),
        "grads": {k: flat(v) for k, v in grads.items()},
        "adam": {"lr": lr, "clip": clip, "losses": adam_losses,
                 "params_after": {k: flat(v) for k, v in end_params.items()}},
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/nn/torch_reference.json"
    cases = [
        build_case("two_layers_dropout_mask_carried_state", V=7, H=8, L=2, B=3, T=5, dropout=0.25, stateful=True,
                   objective="all", seed=1),
        build_case("one_layer_no_dropout", V=7, H=8, L=1, B=3, T=5, dropout=0.0, stateful=False, objective="all",
                   seed=2),
        build_case("one_layer_objective_last", V=7, H=8, L=1, B=3, T=5, dropout=0.0, stateful=False,
                   objective="last", seed=3),
    ]
    doc = {"generator": "tools/torch_reference_lstm.py", "torch_version": torch.__version__, "cases": cases}
    with open(out, "w") as f:
        json.dump(doc, f)
        f.write("\n")
    print(f"wrote {out}: " + ", ".join(f"{c['name']} loss {c['loss']:.6f}" for c in cases))


if __name__ == "__main__":
    main()
