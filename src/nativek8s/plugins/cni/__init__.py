"""plugins/cni"""
