# shellcheck shell=bash
# The host side of the Secure Boot end-to-end run (tests/e2e/run
# --secureboot; docs/e2e.md), sourced by tests/e2e/run.
#
# Everything from Debian's archive: the host's ovmf package (Secure Boot
# firmware, a varstore with Microsoft's CAs enrolled), and the release's
# own shim-signed, shim-helpers-amd64-signed and grub-efi-amd64-signed,
# downloaded with the private apt (pg_papt) and unpacked with dpkg-deb -x,
# never installed on the host; python3-virt-firmware (trixie, Architecture
# all) likewise, run from its unpacked tree by the host's /usr/bin/python3
# (it needs python3-cryptography, python3-pefile and
# python3-importlib-resources, bookworm packages).  The signed kernel is the
# image's own linux-image-ABI.

SB_CODE=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
SB_VARS=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
# shim's GUID, the owner of MokList entries
SB_SHIM_GUID=605dab50-e046-4300-abb6-3dd810dd8b23
SB_ESP_MB=64

# What the host needs that the normal run does not, installed from the
# host's own release (pg_apt_install: what is missing only; Debian's
# python3 modules for /usr/bin/python3, nothing else touched); then
# checked, with the exact message for what is still missing.
SB_HOST_PACKAGES="ovmf fdisk dosfstools mtools openssl python3-cryptography python3-pefile python3-importlib-resources"
sb_host_check() {
	local m=() f
	# shellcheck disable=SC2086
	pg_apt_install $SB_HOST_PACKAGES
	for f in "$SB_CODE" "$SB_VARS"; do [ -f "$f" ] || m+=("ovmf ($f)"); done
	command -v sfdisk >/dev/null || m+=("fdisk (sfdisk)")
	command -v mkfs.vfat >/dev/null || m+=("dosfstools (mkfs.vfat)")
	command -v mcopy >/dev/null || m+=("mtools (mcopy, mmd)")
	command -v openssl >/dev/null || m+=("openssl")
	/usr/bin/python3 -c 'import cryptography, pefile, importlib_resources' 2>/dev/null ||
		m+=("python3-cryptography python3-pefile python3-importlib-resources (for virt-fw-vars)")
	[ ${#m[@]} = 0 ] || pg_die "the Secure Boot run needs on the host: ${m[*]} (apt-get install $SB_HOST_PACKAGES)"
}

# The boot chain of RELEASE and virt-fw-vars, downloaded and unpacked once
# (cached by the packages' versions): prints the directory, which holds
# shimx64.efi, mmx64.efi, grubx64.efi, versions and vfw/ (the unpacked
# python3-virt-firmware).
sb_chain() {	# RELEASE
	local rel=$1 dir=$PG_CACHE/e2e/sb-$1 d tmp
	mkdir -p "$dir"
	if [ ! -f "$dir/.ready" ]; then
		tmp=$dir/debs
		rm -rf "$tmp" "$dir/x" && mkdir -p "$tmp" "$dir/x"
		# the release's own boot chain; virt-fw-vars from trixie for both
		(cd "$tmp" && pg_papt download -qq "shim-signed/$rel" "shim-helpers-amd64-signed/$rel" \
			"grub-efi-amd64-signed/$rel" python3-virt-firmware/trixie) >"$dir/download.log" 2>&1 ||
			{ cat "$dir/download.log" >&2; pg_die "cannot download $rel's boot chain"; }
		for d in "$tmp"/*.deb; do dpkg-deb -x "$d" "$dir/x"; done
		cp "$dir/x/usr/lib/shim/shimx64.efi.signed" "$dir/shimx64.efi"
		cp "$dir/x/usr/lib/shim/mmx64.efi.signed" "$dir/mmx64.efi"
		cp "$dir/x/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" "$dir/grubx64.efi"
		rm -rf "$dir/vfw" && mkdir -p "$dir/vfw"
		cp -a "$dir/x/usr/lib/python3/dist-packages/." "$dir/vfw/"
		for d in "$tmp"/*.deb; do dpkg-deb -f "$d" Package Version | sed 's/^[A-Za-z]*: //' | paste -sd' '; done >"$dir/versions"
		rm -rf "$tmp" "$dir/x"
		touch "$dir/.ready"
	fi
	echo "$dir"
}

sb_virt_fw_vars() {	# CHAINDIR ARGS...
	local c=$1
	shift
	PYTHONPATH=$c/vfw /usr/bin/python3 -c \
		'import sys; from virt.firmware.vars import main; sys.argv[0] = "virt-fw-vars"; sys.exit(main())' "$@"
}

# The root partition's offset in the disk, for debugfs ("DISK?offset=N").
sb_root() {	# DISK
	echo "$1?offset=$(( (1 + SB_ESP_MB) * 1048576 ))"
}

# grub.cfg for Debian's signed grub: where it looks (/EFI/debian, and
# beside the binary), booting the image's own signed kernel.
sb_grub_cfg() {	# ABI EXTRA-CMDLINE
	cat <<EOF
set timeout=0
set default=0
insmod part_gpt
insmod ext2
search --no-floppy --label e2e-root --set root
menuentry "pidns-guard e2e: Debian $1" {
	linux /boot/vmlinuz-$1 root=/dev/vda2 rw console=ttyS0,115200 panic=-1 systemd.show_status=1 $2
	initrd /boot/initrd.img-$1
}
EOF
}

sb_set_cmdline() {	# DISK ABI EXTRA-CMDLINE
	local cfg
	cfg=$(mktemp)
	sb_grub_cfg "$2" "$3" >"$cfg"
	MTOOLS_SKIP_CHECK=1 mcopy -o -i "$1@@1M" "$cfg" ::/EFI/debian/grub.cfg &&
		MTOOLS_SKIP_CHECK=1 mcopy -o -i "$1@@1M" "$cfg" ::/EFI/BOOT/grub.cfg
	local rc=$?
	rm -f "$cfg"
	return $rc
}

# A GPT disk: an ESP (FAT, 64 MiB at 1 MiB) with shim as the removable
# path's BOOTX64.EFI, grub and MokManager beside it and grub.cfg, and the
# e2e image's ext4 (image.sh's disk) as partition 2, copied sparsely; the
# guest starts in PHASE.  No mounts.
sb_disk() {	# EXT4 OUT CHAINDIR ABI PHASE
	local ext4=$1 out=$2 chain=$3 abi=$4 root_mb f
	root_mb=$(( ($(stat -c %s "$ext4") + 1048575) / 1048576 ))
	rm -f "$out"
	truncate -s "$((1 + SB_ESP_MB + root_mb + 1))M" "$out"
	sfdisk -q "$out" <<EOF || return 1
label: gpt
start=2048, size=$((SB_ESP_MB * 2048)), type=uefi, name="ESP"
start=$(((1 + SB_ESP_MB) * 2048)), size=$((root_mb * 2048)), type=linux, name="root"
EOF
	mkfs.vfat -F 32 -s 1 --offset 2048 -n ESP "$out" $((SB_ESP_MB * 1024)) >/dev/null || return 1
	dd if="$ext4" of="$out" bs=1M seek=$((1 + SB_ESP_MB)) conv=notrunc,sparse status=none || return 1
	export MTOOLS_SKIP_CHECK=1
	mmd -i "$out@@1M" ::/EFI ::/EFI/BOOT ::/EFI/debian || return 1
	mcopy -i "$out@@1M" "$chain/shimx64.efi" ::/EFI/BOOT/BOOTX64.EFI || return 1
	mcopy -i "$out@@1M" "$chain/grubx64.efi" ::/EFI/BOOT/grubx64.efi || return 1
	mcopy -i "$out@@1M" "$chain/mmx64.efi" ::/EFI/BOOT/mmx64.efi || return 1
	sb_set_cmdline "$out" "$abi" "" || return 1
	f=$(mktemp)
	echo "$5" >"$f"
	debugfs -w -R "write $f /var/lib/pidns-guard-e2e/phase" "$(sb_root "$out")" >/dev/null 2>&1
	rm -f "$f"
	[ "$(debugfs -R 'cat /var/lib/pidns-guard-e2e/phase' "$(sb_root "$out")" 2>/dev/null)" = "$5" ]
}

# A certificate (PEM) enrolled in VARS' MokList, as MokManager's "Enroll
# MOK" would.  Prints virt-fw-vars' view of MokList.
sb_enroll_cert() {	# PEM VARS CHAINDIR OUTDIR
	local pem=$1 vars=$2 chain=$3 out=$4
	sb_virt_fw_vars "$chain" --input "$vars" --output "$vars.new" \
		--add-mok "$SB_SHIM_GUID" "$pem" >"$out/virt-fw-vars.log" 2>&1 ||
		{ cat "$out/virt-fw-vars.log"; return 1; }
	mv -f "$vars.new" "$vars"
	sb_virt_fw_vars "$chain" --input "$vars" --print -v 2>&1 | grep -A4 '^name=MokList'
}

# DKMS's certificate (DER, /var/lib/dkms/mok.pub, made by the package's
# install in image.sh) enrolled in VARS' MokList, as MokManager's "Enroll
# MOK" would: virt-fw-vars wants PEM.  Prints virt-fw-vars' view of
# MokList.
sb_enroll() {	# DISK VARS CHAINDIR OUTDIR
	local disk=$1 vars=$2 chain=$3 out=$4
	rm -f "$out/mok.der" "$out/mok.pem"
	debugfs -R "dump /var/lib/dkms/mok.pub $out/mok.der" "$(sb_root "$disk")" >/dev/null 2>&1
	[ -s "$out/mok.der" ] || { echo "no /var/lib/dkms/mok.pub in the image"; return 1; }
	openssl x509 -inform DER -in "$out/mok.der" -out "$out/mok.pem" || return 1
	sb_enroll_cert "$out/mok.pem" "$vars" "$chain" "$out"
}
