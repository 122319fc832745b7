// The translation unit that builds the shared precompiled <torch/torch.h> (PARTPLAN_TORCH_PCH).
